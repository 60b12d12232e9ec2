"""The README's SnapStart settings are valid and do what the section says."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
import tomlkit

from lambdapress.bundle._wiring import check_function_settings, function_wiring
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service
from lambdapress.errors import BundleError

README = Path(__file__).resolve().parents[3] / "README.md"


def readme_block() -> str:
    """The TOML block of the README's "### SnapStart" section."""
    section = README.read_text().split("\n### SnapStart\n", 1)[1]
    section = re.split(r"\n##+ ", section, maxsplit=1)[0]  # up to the next section, any level
    blocks: list[str] = re.findall(r"^```toml\n(.*?)^```", section, re.S | re.M)
    (block,) = blocks
    return block


def orders(tmp_path: Path, text: str) -> Service:
    folder = tmp_path / "services" / "orders"
    folder.mkdir(parents=True)
    path = folder / "pyproject.toml"
    path.write_text('[project]\nname = "orders"\n' + text)
    return Service(
        name="orders",
        import_name="orders",
        path=folder,
        settings=parse_service_settings(tomllib.loads(path.read_text()), path),
        answers=None,
    )


def test_the_readmes_settings_turn_snapstart_on_but_for_the_function_that_opts_out(
    tmp_path: Path,
) -> None:
    service = orders(tmp_path, readme_block())
    functions = ["orders.get_order", "orders.nightly"]
    check_function_settings(service, functions)
    assert function_wiring(service, "orders.get_order", ()).capacity.snapstart is True
    assert function_wiring(service, "orders.nightly", ()).capacity.snapstart is False


def test_the_readmes_settings_on_python311_are_refused(tmp_path: Path) -> None:
    document = tomlkit.parse(readme_block())
    document["tool"]["lambdapress"]["runtime"] = "python3.11"
    service = orders(tmp_path, tomlkit.dumps(document))
    with pytest.raises(BundleError, match=r"Lambda has no SnapStart for python3\.11"):
        check_function_settings(service, ["orders.get_order", "orders.nightly"])
