"""`package` refuses SnapStart where Lambda would, before it installs or builds anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.cli import main

PYPROJECT = "services/shop/pyproject.toml"


def test_snapstart_on_python311_is_refused_with_the_reason_line_and_fix(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shop / PYPROJECT
    text = path.read_text()
    assert 'runtime = "python3.11"\n' in text
    path.write_text(text.replace("timeout = 5\n", "timeout = 5\nsnapstart = true\n"))
    line = path.read_text().splitlines().index("snapstart = true") + 1

    assert main(["package", "--root", str(shop)]) == 1

    err = capsys.readouterr().err
    assert err.startswith("error: ")
    assert f"{path}:{line}" in err
    assert "SnapStart of function shop." in err
    assert "Lambda has no SnapStart for python3.11" in err
    assert 'fix: set runtime = "python3.12"' in err
    assert "Traceback" not in err
    assert not (shop / "dist").exists()  # refused before anything was built
