"""Small workspaces for the event source kinds' tests, and what `package` checks of them.

`Repo(tmp_path)` writes a uv workspace of services, each a pyproject (`[tool.lambdapress]`
settings as TOML text) and handler modules; `repo.check()` reads and checks it exactly as
`package` plans (`bundle._checked`: every function's triggers and uses, every service's
resources, AWS's names), without a lock or a build. `refused(...)` runs it and returns the
error, having checked its file, its line and that its fix says what it must.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from lambdapress.bundle._checked import Checked, checked_declarations
from lambdapress.bundle.discovery import HandlerModule
from lambdapress.config.workspace import load_workspace
from lambdapress.errors import BundleError, LambdapressError

IMPORT = "from lambdapress_runtime import triggers\n"
HANDLER = "\ndef handler(event, context):\n    return {}\n"


class Repo:
    """A workspace under `root`, written one service at a time."""

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "pyproject.toml").parent.mkdir(parents=True, exist_ok=True)
        (root / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["services/*"]\n')

    def service(self, name: str, settings: str = "", **handlers: str) -> Path:
        """Write service `name`: its `[tool.lambdapress]` (TOML, dedented) and handler modules."""
        folder = self.root / "services" / name
        package = folder / "src" / name / "handlers"
        package.mkdir(parents=True, exist_ok=True)
        (folder / "src" / name / "__init__.py").write_text("")
        (package / "__init__.py").write_text("")
        text = (
            f'[project]\nname = "{name}"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
            f'[tool.poetry]\npackages = [{{ include = "{name}", from = "src" }}]\n'
            "[tool.lambdapress]\n" + textwrap.dedent(settings).lstrip("\n")
        )
        (folder / "pyproject.toml").write_text(text)
        for module, source in handlers.items():
            (package / f"{module}.py").write_text(textwrap.dedent(source).lstrip("\n"))
        return folder

    def module(self, service: str, name: str) -> Path:
        """The file of a handler module."""
        return self.root / "services" / service / "src" / service / "handlers" / f"{name}.py"

    def pyproject(self, service: str) -> Path:
        """The service's pyproject."""
        return self.root / "services" / service / "pyproject.toml"

    def check(self) -> Checked:
        """What `package` reads and checks before planning."""
        return checked_declarations(load_workspace(self.root))

    def function(self, name: str) -> HandlerModule:
        """One checked function (`workers.drain`)."""
        return next(f for f in self.check().functions if f.name == name)


def line_of(path: Path, text: str) -> int:
    """The 1-based line of the first line of `path` holding `text`."""
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if text in line:
            return number
    raise AssertionError(f"{text!r} is not in {path}")


def refused(repo: Repo, path: Path, line: int, *, fix: str, message: str = "") -> BundleError:
    """The error `repo.check()` raises: at `path:line`, its fix holding `fix`."""
    with pytest.raises(LambdapressError) as caught:
        repo.check()
    error = caught.value
    assert isinstance(error, BundleError), error
    assert (error.path, error.line) == (path, line), str(error)
    assert error.hint is not None and fix in error.hint, str(error)
    assert message in error.message, str(error)
    return error
