"""Open families of model objects: triggers and resources, one subclass per kind.

The application model names a function's triggers and the resources it uses without knowing
every kind: a kind is a frozen pydantic subclass of `Trigger` or `Resource` with a literal
`kind`, registered here when its module is imported. Reading a manifest turns each
`{"kind": ...}` object into its registered class (an unknown kind is an error naming it), and
writing one keeps every field of the subclass, so a new kind of trigger (a queue, a schedule)
or of resource (a bucket) is a new class and a registration, not an edit of the model.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar

from pydantic import BaseModel, ConfigDict


class Kinded(BaseModel):
    """A model object of one registered kind, told apart by its `kind` field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: str
    family: ClassVar[str] = "object"
    """`trigger` or `resource`: which registry the subclasses go into."""


class Family:
    """The registered subclasses of one `Kinded` base, by kind."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._classes: dict[str, type[Kinded]] = {}

    def register(self, cls: type[Kinded]) -> None:
        """Make `cls` the class of objects whose `kind` is its literal default."""
        kind = cls.model_fields["kind"].default
        if not isinstance(kind, str) or not kind:
            raise TypeError(f"{cls.__name__} needs a literal `kind` default to be registered")
        known = self._classes.get(kind)
        if known is not None and known is not cls:
            raise TypeError(f"{self.name} kind {kind!r} is registered twice ({known.__name__})")
        self._classes[kind] = cls

    def unregister(self, kind: str) -> None:
        """Forget a kind (tests that register one of their own clean up with this)."""
        self._classes.pop(kind, None)

    def kinds(self) -> tuple[str, ...]:
        """The registered kinds, sorted."""
        return tuple(sorted(self._classes))

    def classes(self) -> tuple[type[Kinded], ...]:
        """The registered classes, in the order of their kinds."""
        return tuple(self._classes[kind] for kind in self.kinds())

    def parse(self, value: object) -> Kinded:
        """`value` (a mapping, or an instance already) as its kind's class."""
        if isinstance(value, Kinded):
            return value
        if not isinstance(value, dict):
            raise ValueError(f"a {self.name} is an object with a `kind`, not {value!r}")
        kind = value.get("kind")
        cls = self._classes.get(kind) if isinstance(kind, str) else None
        if cls is None:
            known = ", ".join(self.kinds()) or "none"
            raise ValueError(f"unknown {self.name} kind {kind!r} (known: {known})")
        return cls.model_validate(value)


TRIGGERS = Family("trigger")
RESOURCES = Family("resource")
_K = TypeVar("_K", bound=type[Kinded])


def registered(family: Family) -> Callable[[_K], _K]:
    """Class decorator: register the class in `family` (`@registered(TRIGGERS)`)."""

    def register(cls: _K) -> _K:
        family.register(cls)
        return cls

    return register


def parse_all(family: Family, values: Any) -> tuple[Kinded, ...]:
    """A sequence of `family` objects, each as its kind's class (a pydantic `before` hook)."""
    if not isinstance(values, list | tuple):
        raise ValueError(f"a list of {family.name}s, not {values!r}")
    return tuple(family.parse(value) for value in values)


def schema_of(family: Family) -> dict[str, Any]:
    """The JSON Schema of one `family` object: one of the registered kinds' schemas."""
    return {"oneOf": [cls.model_json_schema() for cls in family.classes()]}
