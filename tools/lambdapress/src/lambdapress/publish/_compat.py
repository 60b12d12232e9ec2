"""The compatibility gate: compare the JSON Schemas of exported models, decide the bump needed.

Services agree on data through the shared models, so a release that removes a field, changes
a field's type or adds a required field breaks every service still sending or reading the old
shape. Those are breaking changes and need a major version bump (the first number: 0.x is not
special, since Python ranges such as `~=0.3` would let 0.4 in). Additions (an optional field,
a new model, a new enum value) need at least a minor bump. Everything else, including edited
descriptions and titles, is a patch.

The input is `{model name: JSON Schema}` for the last published version and for the local
one (validation mode: what each model accepts; see `schemas`). Everything here is pure, so
the rules are tested on schemas from real pydantic models without installing anything.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Literal

from packaging.version import Version
from pydantic import BaseModel, ConfigDict

Bump = Literal["none", "patch", "minor", "major"]
RANK: dict[Bump, int] = {"none": 0, "patch": 1, "minor": 2, "major": 3}
Schema = Mapping[str, Any]

ChangeKind = Literal[
    "model removed",
    "model added",
    "field removed",
    "field added",
    "field now required",
    "field now optional",
    "type changed",
    "constraints changed",
    "enum values removed",
    "enum values added",
    "schema changed",
]

ANNOTATIONS = frozenset(
    {"title", "description", "examples", "default", "deprecated", "readOnly", "writeOnly"}
)
CONSTRAINTS = frozenset(
    {
        "minLength",
        "maxLength",
        "pattern",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "multipleOf",
        "minItems",
        "maxItems",
        "uniqueItems",
        "minProperties",
        "maxProperties",
    }
)
_OBJECT_PARTS = frozenset({"properties", "required", "$defs"})


class Change(BaseModel):
    """One difference in one model."""

    model_config = ConfigDict(frozen=True)

    model: str
    location: str
    """The field (`id`), or a nested model's field (`Address.street`); empty for the model."""
    kind: ChangeKind
    detail: str
    breaking: bool

    def describe(self) -> str:
        """`field removed: id (breaking)`-style text."""
        where = f" `{self.location}`" if self.location else ""
        detail = f": {self.detail}" if self.detail else ""
        verdict = "breaking" if self.breaking else "compatible"
        return f"{self.kind}{where}{detail} ({verdict})"


class ModelReport(BaseModel):
    """The changes of one exported model (none: it is unchanged)."""

    model_config = ConfigDict(frozen=True)

    model: str
    changes: tuple[Change, ...]

    @property
    def breaking(self) -> bool:
        """Whether any change breaks users of the previous version."""
        return any(change.breaking for change in self.changes)


class CompatReport(BaseModel):
    """The gate's verdict for one package: changes per model, the bump needed and made."""

    model_config = ConfigDict(frozen=True)

    package: str
    baseline: str
    version: str
    models: tuple[ModelReport, ...]
    required_bump: Bump
    actual_bump: Bump

    @property
    def ok(self) -> bool:
        """Whether the version bump is big enough for the changes."""
        return RANK[self.actual_bump] >= RANK[self.required_bump]

    def summary(self) -> str:
        """One line: what changed against which version, and whether the bump suffices."""
        changed = [report for report in self.models if report.changes]
        what = f"{len(changed)} of {len(self.models)} models changed" if changed else "no change"
        verdict = "ok" if self.ok else "refused"
        return (
            f"{self.package} {self.version} vs {self.baseline}: {what}; needs a "
            f"{self.required_bump} bump, this is a {self.actual_bump} bump: {verdict}"
        )

    def lines(self) -> list[str]:
        """The per-model report, one change per line, unchanged models included."""
        out = []
        for report in self.models:
            if not report.changes:
                out.append(f"{report.model}: unchanged")
                continue
            out.extend(f"{report.model}: {change.describe()}" for change in report.changes)
        return out


def assess(
    package: str, baseline: str, version: str, old: Mapping[str, Schema], new: Mapping[str, Schema]
) -> CompatReport:
    """Compare the published (`old`) and local (`new`) schemas and judge the version bump."""
    models = compare_schemas(old, new)
    return CompatReport(
        package=package,
        baseline=baseline,
        version=version,
        models=models,
        required_bump=required_bump(models),
        actual_bump=bump_between(Version(baseline), Version(version)),
    )


def bump_between(baseline: Version, version: Version) -> Bump:
    """Which number went up from `baseline` to `version` (`none` if it did not go up)."""
    old, new = _release(baseline), _release(version)
    if version <= baseline:
        return "none"
    if new[0] > old[0]:
        return "major"
    if new[:2] > old[:2]:
        return "minor"
    return "patch"


def _release(version: Version) -> tuple[int, int, int]:
    padded = (*version.release, 0, 0)
    return (padded[0], padded[1], padded[2])


def required_bump(models: tuple[ModelReport, ...]) -> Bump:
    """Major for any breaking change, minor for any other change, else patch."""
    changes = [change for report in models for change in report.changes]
    if any(change.breaking for change in changes):
        return "major"
    return "minor" if changes else "patch"


def compare_schemas(
    old: Mapping[str, Schema], new: Mapping[str, Schema]
) -> tuple[ModelReport, ...]:
    """A report per model present in either version, sorted by name."""
    reports = []
    for name in sorted(old.keys() | new.keys()):
        if name not in new:
            change = Change(model=name, location="", kind="model removed", detail="", breaking=True)
            reports.append(ModelReport(model=name, changes=(change,)))
        elif name not in old:
            change = Change(model=name, location="", kind="model added", detail="", breaking=False)
            reports.append(ModelReport(model=name, changes=(change,)))
        else:
            reports.append(
                ModelReport(model=name, changes=compare_model(name, old[name], new[name]))
            )
    return tuple(reports)


def compare_model(name: str, old: Schema, new: Schema) -> tuple[Change, ...]:
    """Changes between two schemas of one model, its nested models ($defs) included."""
    changes: list[Change] = []
    _compare_object(name, "", old, new, changes)
    old_defs, new_defs = old.get("$defs", {}), new.get("$defs", {})
    for nested in sorted(old_defs.keys() & new_defs.keys()):
        before, after = old_defs[nested], new_defs[nested]
        if "properties" in before and "properties" in after:
            _compare_object(name, f"{nested}.", before, after, changes)
        else:
            _compare_value(name, nested, before, after, changes)
    return tuple(changes)


def _compare_object(
    model: str, prefix: str, old: Schema, new: Schema, changes: list[Change]
) -> None:
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_req, new_req = set(old.get("required", [])), set(new.get("required", []))

    def add(field: str, kind: ChangeKind, detail: str, breaking: bool) -> None:
        changes.append(
            Change(
                model=model, location=prefix + field, kind=kind, detail=detail, breaking=breaking
            )
        )

    for field in sorted(old_props.keys() - new_props.keys()):
        add(field, "field removed", "", True)
    for field in sorted(new_props.keys() - old_props.keys()):
        required = field in new_req
        add(field, "field added", "required" if required else "optional", required)
    for field in sorted(old_props.keys() & new_props.keys()):
        if field in new_req and field not in old_req:
            add(field, "field now required", "", True)
        elif field in old_req and field not in new_req:
            add(field, "field now optional", "", False)
        _compare_value(model, prefix + field, old_props[field], new_props[field], changes)
    rest_old = {k: v for k, v in strip(old).items() if k not in _OBJECT_PARTS}
    rest_new = {k: v for k, v in strip(new).items() if k not in _OBJECT_PARTS}
    if rest_old != rest_new:
        detail = f"{_compact(rest_old)} -> {_compact(rest_new)}"
        location = prefix.rstrip(".")
        changes.append(
            Change(
                model=model, location=location, kind="schema changed", detail=detail, breaking=True
            )
        )


def _compare_value(
    model: str, location: str, old: Schema, new: Schema, changes: list[Change]
) -> None:
    before, after = strip(old), strip(new)
    if before == after:
        return

    def add(kind: ChangeKind, detail: str, breaking: bool) -> None:
        changes.append(
            Change(model=model, location=location, kind=kind, detail=detail, breaking=breaking)
        )

    if (
        "enum" in before
        and "enum" in after
        and _without(before, {"enum"}) == _without(after, {"enum"})
    ):
        removed = [v for v in before["enum"] if v not in after["enum"]]
        added = [v for v in after["enum"] if v not in before["enum"]]
        if removed:
            add("enum values removed", ", ".join(map(repr, removed)), True)
        if added:
            add("enum values added", ", ".join(map(repr, added)), False)
        return
    if _without(before, CONSTRAINTS) == _without(after, CONSTRAINTS):
        keys = sorted(k for k in CONSTRAINTS if before.get(k) != after.get(k))
        detail = ", ".join(f"{k} {before.get(k, '-')} -> {after.get(k, '-')}" for k in keys)
        add("constraints changed", detail, True)
        return
    add("type changed", f"{type_name(before)} -> {type_name(after)}", True)


def strip(schema: Any) -> Any:
    """The schema without annotations (titles, descriptions, defaults...), which break nothing.

    Keys under `properties` and `$defs` are field and model names, never annotations.
    """
    if isinstance(schema, list):
        return [strip(item) for item in schema]
    if not isinstance(schema, Mapping):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ANNOTATIONS:
            continue
        if key in ("properties", "$defs") and isinstance(value, Mapping):
            out[key] = {name: strip(sub) for name, sub in value.items()}
        else:
            out[key] = strip(value)
    return out


def type_name(schema: Any) -> str:
    """A short, Python-like name for a (stripped) schema: `str`, `list[Address]`, `int | None`."""
    if not isinstance(schema, Mapping):
        return _compact(schema)
    if "$ref" in schema:
        return str(schema["$ref"]).rsplit("/", 1)[-1]
    for union in ("anyOf", "oneOf"):
        if union in schema:
            return " | ".join(type_name(option) for option in schema[union])
    if "enum" in schema:
        return "enum(" + ", ".join(map(repr, schema["enum"])) + ")"
    if "const" in schema:
        return f"const({schema['const']!r})"
    kind = schema.get("type")
    if kind == "array":
        return f"list[{type_name(schema.get('items', {}))}]"
    if kind == "object" and isinstance(schema.get("additionalProperties"), Mapping):
        return f"dict[str, {type_name(schema['additionalProperties'])}]"
    names = {
        "string": "str",
        "integer": "int",
        "number": "float",
        "boolean": "bool",
        "null": "None",
    }
    if isinstance(kind, str) and kind in names:
        fmt = schema.get("format")
        return f"{names[kind]}({fmt})" if fmt else names[kind]
    return _compact(schema)


def _without(schema: Any, keys: frozenset[str] | set[str]) -> Any:
    if not isinstance(schema, Mapping):
        return schema
    return {k: v for k, v in schema.items() if k not in keys}


def _compact(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))
