"""The warning a project gets when its lock pins a lambdapress older than its template."""

from __future__ import annotations

from pathlib import Path

import pytest
from packaging.version import Version

from lambdapress.cli import main
from lambdapress.config.toolversion import locked_version, older_tool_warning, release_of

LOCK = """version = 1
requires-python = ">=3.11"

[[package]]
name = "lambdapress"
version = "{version}"
source = {{ git = "https://example.invalid/lambdapress?tag=v{version}#0123" }}

[[package]]
name = "pytest"
version = "8.3.0"
source = {{ registry = "https://pypi.org/simple" }}
"""


def project(root: Path, template: str, locked: str | None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    (root / ".copier-answers.yml").write_text(
        f"_commit: {template}\n_src_path: https://example.invalid/lambdapress\nkind: project\n",
        encoding="utf-8",
    )
    if locked is not None:
        (root / "uv.lock").write_text(LOCK.format(version=locked), encoding="utf-8")
    return root


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("v0.3.0", Version("0.3.0")),
        ("v0.3.0-2-g1a2b3c4", Version("0.3.0")),
        ("1a2b3c4", None),
        # A template repository without tags: copier names the commit by its short hash,
        # which may be all digits; it is no release.
        ("8051234", None),
        ("0123456", None),
    ],
)
def test_the_template_release_is_read_from_copiers_commit_name(
    template: str, expected: Version | None
) -> None:
    assert release_of(template) == expected


def test_a_lock_older_than_the_template_is_named_with_the_fix(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "v0.4.0", locked="0.3.0")
    (root / "services" / "orders").mkdir(parents=True)
    warning = older_tool_warning(root / "services" / "orders", running="0.4.0")
    assert warning == (
        "warning: uv.lock pins lambdapress 0.3.0, older than the project's template v0.4.0 "
        "(.copier-answers.yml): run `uv lock` (or any nox session) and commit uv.lock"
    )


def test_a_lock_at_or_after_the_template_says_nothing(tmp_path: Path) -> None:
    assert older_tool_warning(project(tmp_path / "a", "v0.3.0", "0.3.0"), "0.3.0") is None
    assert (
        older_tool_warning(project(tmp_path / "b", "v0.3.0-4-gabcdef0", "0.3.0"), "0.3.0") is None
    )
    assert older_tool_warning(project(tmp_path / "c", "v0.3.0", "0.4.0"), "0.3.0") is None


def test_without_a_lock_the_running_tool_is_compared(tmp_path: Path) -> None:
    root = project(tmp_path / "p", "v0.4.0", locked=None)
    assert locked_version(root / "uv.lock") is None
    assert older_tool_warning(root, "0.3.0") == (
        "warning: this is lambdapress 0.3.0, older than the project's template v0.4.0 "
        "(.copier-answers.yml): run `uv lock` (or any nox session) and commit uv.lock"
    )
    assert older_tool_warning(root, "0.4.0") is None


def test_outside_a_generated_project_nothing_is_compared(tmp_path: Path) -> None:
    (tmp_path / "uv.lock").write_text(LOCK.format(version="0.0.1"), encoding="utf-8")
    assert older_tool_warning(tmp_path, "0.0.1") is None


def test_every_command_starts_with_the_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(project(tmp_path / "p", "v99.0.0", locked="0.3.0"))
    assert main(["--help"]) == 0
    assert main([]) == 2
    err = capsys.readouterr().err.splitlines()
    warning = [line for line in err if line.startswith("warning: uv.lock pins lambdapress 0.3.0")]
    assert len(warning) == 2
    assert err[0] == warning[0]


@pytest.mark.parametrize(
    "lock",
    [
        LOCK.format(version="0.3.1"),
        LOCK.format(version="0.3.1").replace("\n", "\r\n"),
        # Not as uv writes it (keys in another order): parsed whole, the same answer.
        LOCK.format(version="0.3.1").replace(
            'name = "lambdapress"\nversion = "0.3.1"', 'version = "0.3.1"\nname = "lambdapress"'
        ),
    ],
)
def test_the_locked_tool_is_read_from_its_entry_however_the_lock_is_laid_out(
    tmp_path: Path, lock: str
) -> None:
    (tmp_path / "uv.lock").write_bytes(lock.encode())

    assert locked_version(tmp_path / "uv.lock") == Version("0.3.1")


def test_a_lock_without_the_tool_or_with_a_broken_entry_pins_nothing(tmp_path: Path) -> None:
    path = tmp_path / "uv.lock"
    path.write_text(LOCK.format(version="0.3.1").replace('"lambdapress"', '"other"'))
    assert locked_version(path) is None
    path.write_text(LOCK.format(version="not a version"))
    assert locked_version(path) is None
