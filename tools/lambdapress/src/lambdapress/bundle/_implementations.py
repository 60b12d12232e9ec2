"""Packages that pick an implementation at import time, pinned to the one that ships.

psycopg imports the fastest implementation it finds: its C extension (psycopg-c, linked to
the system's libpq), the binary one (psycopg-binary, libpq bundled), or pure Python through
the system's libpq via ctypes. On a developer's machine with libpq installed, a zip that lacks
psycopg-binary still imports (falling back to the Python one); on Lambda, which has no libpq,
the same zip fails at import. Pinning the choice in the function's environment makes the
local run pick what Lambda will pick, and a missing implementation fail at once, locally.

One `Choice` per such package; the pipeline asks `pin_implementations` for each function. A
value set in `[tool.lambdapress.environment]` wins when it names an implementation that ships;
otherwise it is an error, since it would fail on Lambda. The implementations' own library
lookups (`files`) matter only when that implementation is the one pinned: `bundle.native`
ignores the others' and makes the pinned one's missing libraries errors.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import canonicalize_name

from lambdapress.config.pyproject import find_key_line
from lambdapress.config.settings import TABLE
from lambdapress.errors import BundleError


@dataclass(frozen=True)
class Implementation:
    """One implementation a package may load, and what must ship for it."""

    value: str
    """What the package's variable says to choose it: `binary`."""
    distribution: str | None
    """The distribution that carries it (`psycopg-binary`); None: the package itself."""
    files: tuple[str, ...] = ()
    """Paths in the zip of the modules that run only under this implementation, whose library
    lookups load what it needs (`psycopg/pq/misc.py` looks libpq up for the Python one)."""


@dataclass(frozen=True)
class Choice:
    """A package that reads `variable` at import to choose among `implementations`."""

    distribution: str
    variable: str
    implementations: tuple[Implementation, ...]
    """In the order lambdapress pins them: the first one that ships."""
    extra: str
    """The extra that ships the preferred implementation, for the fix: `binary`."""

    def shipped(self, distributions: Collection[str]) -> tuple[Implementation, ...]:
        """The implementations whose distribution is in `distributions` (canonical names)."""
        return tuple(
            i
            for i in self.implementations
            if i.distribution is None or canonicalize_name(i.distribution) in distributions
        )


PSYCOPG = Choice(
    distribution="psycopg",
    variable="PSYCOPG_IMPL",
    implementations=(
        Implementation("binary", "psycopg-binary"),
        Implementation("c", "psycopg-c"),
        Implementation("python", None, files=("psycopg/pq/misc.py", "psycopg/pq/_pq_ctypes.py")),
    ),
    extra="binary",
)
CHOICES: tuple[Choice, ...] = (PSYCOPG,)


def pinned_variables() -> dict[str, str]:
    """Each variable a pin may set, with its longest value: what the 4 KB check reserves."""
    return {
        choice.variable: max((i.value for i in choice.implementations), key=len)
        for choice in CHOICES
    }


@dataclass(frozen=True)
class Pinned:
    """What a function's environment pins: the choice, and the implementation it names."""

    choice: Choice
    implementation: Implementation

    def inactive_files(self) -> frozenset[str]:
        """Modules of the implementations not pinned: they never run, nor do their lookups."""
        return frozenset(
            f for i in self.choice.implementations if i != self.implementation for f in i.files
        )


def pin_implementations(
    distributions: Collection[str],
    environment: Mapping[str, str],
    *,
    function: str,
    pyproject: Path,
    choices: tuple[Choice, ...] = CHOICES,
) -> tuple[dict[str, str], tuple[Pinned, ...]]:
    """The function's environment with every shipped chooser pinned, and what was pinned.

    `distributions` are the canonical names that ship in the function; `environment` is the
    service's `[tool.lambdapress.environment]`.
    """
    result = dict(environment)
    pinned: list[Pinned] = []
    for choice in choices:
        if canonicalize_name(choice.distribution) not in distributions:
            continue
        shipped = choice.shipped(distributions)
        chosen = shipped[0]
        wanted = environment.get(choice.variable)
        if wanted is not None:
            chosen = _user_choice(choice, shipped, wanted, function, pyproject)
        result[choice.variable] = wanted if wanted is not None else chosen.value
        pinned.append(Pinned(choice, chosen))
    return result, tuple(pinned)


def _user_choice(
    choice: Choice,
    shipped: tuple[Implementation, ...],
    wanted: str,
    function: str,
    pyproject: Path,
) -> Implementation:
    """The implementation a user's value names, when it ships; else why it cannot work."""
    found = next((i for i in shipped if i.value == wanted.strip().lower()), None)
    if found is not None:
        return found
    known = next((i for i in choice.implementations if i.value == wanted.strip().lower()), None)
    ships = ", ".join(repr(i.value) for i in shipped)
    if known is None:
        values = ", ".join(repr(i.value) for i in choice.implementations)
        problem = f"is not one of {choice.distribution}'s implementations ({values})"
    else:
        problem = (
            f"names {choice.distribution}'s {known.value!r} implementation, but "
            f"{known.distribution} does not ship in {function}"
        )
    raise BundleError(
        f"{choice.variable} = {wanted!r} in [{TABLE}.environment] {problem}: "
        f"{choice.distribution} would fail to import on Lambda (what ships: {ships})",
        path=pyproject,
        line=find_key_line(pyproject, [*TABLE.split("."), "environment", choice.variable]),
        hint=f"remove {choice.variable} (lambdapress pins the implementation that ships), set "
        f"it to one of {ships}, or add the distribution that carries it to [project] "
        f"dependencies (e.g. {choice.distribution}[{choice.extra}]) and run `uv lock`",
    )
