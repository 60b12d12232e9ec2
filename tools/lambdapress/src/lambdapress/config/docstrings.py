"""Third-party distributions checked never to read their own docstrings, at the versions checked.

Bytecode without docstrings (`__doc__` is None, as under `python -OO`) is about 5% smaller, and
breaks code that reads its own docstrings at run time: grammars written in them (`ply`),
command lines and error messages built from them. Which code does is a fact about each
distribution's source, not something a build can tell from the outside, so `docstrings =
"checked"` (the default) drops them only for a distribution on this list, locked at a version
its entry covers, and keeps them for every other one.

The list is data, `data/docstrings_checked.json`: for each distribution (canonical name) the
versions whose sources were read, how they were checked, and what the code does read of a
`__doc__` (pydantic reads those of the classes it makes a JSON schema for: the user's models,
which are first-party and keep their docstrings). A distribution joins the list, or a range
grows, only once those versions' sources have been searched for every read.
"""

from __future__ import annotations

from functools import cache
from importlib import resources

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, field_validator


class CheckedDistribution(BaseModel):
    """One distribution of the list: the versions checked, how, and what its code reads."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    versions: str
    """A version specifier (`>=2.14.0,<=2.14.4`): the releases whose sources were checked."""
    checked: str
    """How: which releases' sources were read, searched for what, and what else was run."""
    reads: str
    """What its code reads of a `__doc__`, and why that is never its own at run time."""

    @field_validator("versions")
    @classmethod
    def _check_versions(cls, value: str) -> str:
        try:
            SpecifierSet(value)
        except InvalidSpecifier as error:
            raise ValueError(f"{value!r} is not a version specifier: {error}") from None
        return value


class CheckedDocstrings(BaseModel):
    """The list: each checked distribution by canonical name."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    about: str = ""
    distributions: dict[str, CheckedDistribution]

    @field_validator("distributions")
    @classmethod
    def _check_names(cls, value: dict[str, CheckedDistribution]) -> dict[str, CheckedDistribution]:
        for name in value:
            if canonicalize_name(name) != name:
                raise ValueError(f"{name!r} is not a canonical distribution name")
        return value

    def covers(self, name: str, version: str) -> bool:
        """Whether distribution `name` at `version` was checked never to read its docstrings.

        A version the entry's range does not name is not covered, nor is a pre-release (never
        checked: its code is not yet what is released) or a version that does not parse.
        """
        entry = self.distributions.get(canonicalize_name(name))
        if entry is None:
            return False
        try:
            parsed = Version(version)
        except InvalidVersion:
            return False
        return SpecifierSet(entry.versions).contains(parsed, prereleases=False)


@cache
def checked_docstrings() -> CheckedDocstrings:
    """The list lambdapress ships, from `data/docstrings_checked.json`."""
    path = resources.files("lambdapress.config").joinpath("data", "docstrings_checked.json")
    return CheckedDocstrings.model_validate_json(path.read_text(encoding="utf-8"))
