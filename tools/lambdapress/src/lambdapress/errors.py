"""The one family of errors lambdapress raises for things the user can fix.

Every mistake a user can make (a typo in a pyproject, a name that is taken, a template that is
not committed) surfaces as a `LambdapressError`. Keeping them in one hierarchy lets the CLI
print them as a short `error: ...` line with exit status 1, while anything else is a bug in
lambdapress: the CLI reports it as an internal error with a log file and exit status 2 (see
`crash.py`), so the two are never confused. Each error carries *where* (file, line) and *what
to do* (hint), so the message is actionable without reading the source.
"""

from __future__ import annotations

from pathlib import Path


class LambdapressError(Exception):
    """A problem the user caused and can fix: it names the place and says the fix."""

    def __init__(
        self,
        message: str,
        *,
        path: Path | None = None,
        line: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = path
        self.line = line
        self.hint = hint

    def __str__(self) -> str:
        """Render `path:line: message` and, when there is one, an indented `fix:` line.

        The `path:line:` prefix is the format editors and terminals turn into a link.
        """
        location = ""
        if self.path is not None:
            location = f"{self.path}:{self.line}: " if self.line is not None else f"{self.path}: "
        text = f"{location}{self.message}"
        if self.hint:
            text += f"\n  fix: {self.hint}"
        return text

    def __reduce__(self) -> tuple[object, ...]:
        """Keep the keyword-only fields when the error crosses a process boundary."""
        return (_rebuild, (type(self), self.message, self.path, self.line, self.hint))


def _rebuild(
    cls: type[LambdapressError],
    message: str,
    path: Path | None,
    line: int | None,
    hint: str | None,
) -> LambdapressError:
    return cls(message, path=path, line=line, hint=hint)


class ConfigError(LambdapressError):
    """A configuration file (pyproject.toml, .copier-answers.yml) is unreadable or invalid."""


class WorkspaceError(LambdapressError):
    """The workspace layout is inconsistent (missing root, bad member, clashing names)."""


class ScaffoldError(LambdapressError):
    """A new service or package cannot be created as asked."""


class BundleError(LambdapressError):
    """A function cannot be packaged: a route, an import, a wheel or a size limit is wrong."""


class EmulatorError(LambdapressError):
    """The local emulator cannot run a function as asked.

    A missing artifact, an unknown function, a bad event, or no runtime client to run it with.
    """


class ToolchainError(LambdapressError):
    """A program the bundler and the emulator run (a Python interpreter, uv) is missing or fails."""


class BuildError(LambdapressError):
    """A shared package cannot be built into a wheel and an sdist."""


class DistributionError(LambdapressError):
    """A built wheel or sdist has metadata that must not be published (a local path, bad fields)."""


class PackageIndexError(LambdapressError):
    """A package index is unreachable, refuses the credentials, or answers something unexpected."""


class PublishError(LambdapressError):
    """A package must not be published as it is (version taken, breaking change, failed upload)."""


class CompatCheckError(LambdapressError):
    """The JSON Schemas of a package's models cannot be obtained for the compatibility gate."""


class PinError(LambdapressError):
    """A service cannot be pinned to (or unpinned from) a published version of a package."""


class IndexServerError(LambdapressError):
    """The local package index (pypiserver) cannot be started."""


class ModelsError(LambdapressError):
    """A model library cannot be added or upgraded, or a locked version breaks the service.

    Breaking means: it breaks the models the service was written against.
    """


class DeployError(LambdapressError):
    """AWS refused a deploy, sync or destroy step, or the stack is not in a state to take it."""


class StorageError(LambdapressError):
    """A local storage server (PostgreSQL, moto's DynamoDB) cannot start, or a migration fails."""
