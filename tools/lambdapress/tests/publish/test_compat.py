"""The compatibility gate's rules, on JSON Schemas of real pydantic models (no install)."""

from __future__ import annotations

from enum import Enum
from typing import Any

import pytest
from packaging.version import Version
from pydantic import BaseModel, Field

from lambdapress.publish._compat import (
    Change,
    assess,
    bump_between,
    compare_model,
    compare_schemas,
    strip,
    type_name,
)


def schema(model: type[BaseModel]) -> dict[str, Any]:
    return model.model_json_schema(mode="validation")


class OrderV1(BaseModel):
    id: str = Field(max_length=64, description="Opaque id")
    total: int
    note: str | None = None


class OrderRemoved(BaseModel):  # `note` is gone
    id: str = Field(max_length=64, description="Opaque id")
    total: int


class OrderNewRequired(BaseModel):
    id: str = Field(max_length=64, description="Opaque id")
    total: int
    note: str | None = None
    currency: str


class OrderNewOptional(BaseModel):
    id: str = Field(max_length=64, description="Opaque id")
    total: int
    note: str | None = None
    currency: str = "EUR"


class OrderRetyped(BaseModel):
    id: str = Field(max_length=64, description="Opaque id")
    total: float
    note: str | None = None


class OrderReworded(BaseModel):
    id: str = Field(max_length=64, description="An identifier, opaque to clients")
    total: int = Field(title="Total in cents")
    note: str | None = None


class OrderLonger(BaseModel):
    id: str = Field(max_length=128, description="Opaque id")
    total: int
    note: str | None = None


def kinds(changes: tuple[Change, ...]) -> list[tuple[str, str, bool]]:
    return [(c.location, c.kind, c.breaking) for c in changes]


def test_removed_field_is_breaking() -> None:
    changes = compare_model("Order", schema(OrderV1), schema(OrderRemoved))
    assert kinds(changes) == [("note", "field removed", True)]


def test_new_required_field_is_breaking() -> None:
    changes = compare_model("Order", schema(OrderV1), schema(OrderNewRequired))
    assert kinds(changes) == [("currency", "field added", True)]
    assert changes[0].detail == "required"


def test_new_optional_field_is_compatible() -> None:
    changes = compare_model("Order", schema(OrderV1), schema(OrderNewOptional))
    assert kinds(changes) == [("currency", "field added", False)]
    assert changes[0].describe() == "field added `currency`: optional (compatible)"


def test_changed_type_is_breaking_and_named() -> None:
    changes = compare_model("Order", schema(OrderV1), schema(OrderRetyped))
    assert kinds(changes) == [("total", "type changed", True)]
    assert changes[0].detail == "int -> float"


def test_descriptions_and_titles_are_not_changes() -> None:
    assert compare_model("Order", schema(OrderV1), schema(OrderReworded)) == ()


def test_constraints_are_reported_separately_from_types() -> None:
    changes = compare_model("Order", schema(OrderV1), schema(OrderLonger))
    assert kinds(changes) == [("id", "constraints changed", True)]
    assert changes[0].detail == "maxLength 64 -> 128"


def test_field_that_becomes_required_is_breaking() -> None:
    class Before(BaseModel):
        note: str = ""

    class After(BaseModel):
        note: str

    assert kinds(compare_model("M", schema(Before), schema(After))) == [
        ("note", "field now required", True)
    ]
    assert kinds(compare_model("M", schema(After), schema(Before))) == [
        ("note", "field now optional", False)
    ]


class AddressV1(BaseModel):
    street: str
    city: str


class AddressV2(BaseModel):
    street: str


class CustomerV1(BaseModel):
    name: str
    addresses: list[AddressV1]


class CustomerV2(BaseModel):
    name: str
    addresses: list[AddressV2]


def test_nested_model_changes_are_found_through_defs() -> None:
    old, new = schema(CustomerV1), schema(CustomerV2)
    # the titles differ (AddressV1/AddressV2), so align them as one model evolving
    new["$defs"] = {"AddressV1": new["$defs"].pop("AddressV2")}
    new["properties"]["addresses"]["items"]["$ref"] = "#/$defs/AddressV1"
    changes = compare_model("Customer", old, new)
    assert kinds(changes) == [("AddressV1.city", "field removed", True)]


class Status(Enum):
    OPEN = "open"
    CLOSED = "closed"


class Status2(Enum):
    OPEN = "open"
    SHIPPED = "shipped"


def test_enum_values_removed_break_and_added_do_not() -> None:
    class Before(BaseModel):
        status: Status

    class After(BaseModel):
        status: Status2

    old, new = schema(Before), schema(After)
    new["$defs"] = {"Status": new["$defs"].pop("Status2")}
    new["properties"]["status"]["$ref"] = "#/$defs/Status"
    changes = compare_model("M", old, new)
    assert kinds(changes) == [
        ("Status", "enum values removed", True),
        ("Status", "enum values added", False),
    ]
    assert changes[0].detail == "'closed'"


def test_forbidding_extra_fields_is_a_breaking_schema_change() -> None:
    class Before(BaseModel):
        a: int

    class After(BaseModel, extra="forbid"):
        a: int

    old, new = schema(Before), schema(After)
    new["title"] = old["title"]
    assert kinds(compare_model("M", old, new)) == [("", "schema changed", True)]


def test_models_removed_and_added_are_reported() -> None:
    reports = compare_schemas({"Old": schema(OrderV1)}, {"New": schema(OrderV1)})
    assert [(r.model, [c.kind for c in r.changes], r.breaking) for r in reports] == [
        ("New", ["model added"], False),
        ("Old", ["model removed"], True),
    ]


def test_strip_keeps_fields_named_like_annotations() -> None:
    class Book(BaseModel):
        title: str = Field(description="the book's title")

    stripped = strip(schema(Book))
    assert stripped == {
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
        "type": "object",
    }


@pytest.mark.parametrize(
    ("model_schema", "expected"),
    [
        ({"type": "string", "format": "date-time"}, "str(date-time)"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "int | None"),
        ({"type": "array", "items": {"$ref": "#/$defs/Address"}}, "list[Address]"),
        ({"type": "object", "additionalProperties": {"type": "number"}}, "dict[str, float]"),
        ({"enum": ["a", "b"]}, "enum('a', 'b')"),
    ],
)
def test_type_names_read_like_python(model_schema: dict[str, Any], expected: str) -> None:
    assert type_name(model_schema) == expected


@pytest.mark.parametrize(
    ("baseline", "version", "bump"),
    [
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.3.0", "minor"),
        ("1.2.3", "1.2.4", "patch"),
        ("1.2", "1.2.1", "patch"),
        ("0.3.0", "0.4.0", "minor"),  # 0.x is not special: 0.4 is not a major bump
        ("0.3.0", "1.0.0", "major"),
        ("1.2.3", "1.2.3", "none"),
        ("2.0.0", "1.9.0", "none"),
    ],
)
def test_bump_between(baseline: str, version: str, bump: str) -> None:
    assert bump_between(Version(baseline), Version(version)) == bump


def test_breaking_change_with_minor_bump_is_refused_per_model() -> None:
    old = {"Order": schema(OrderV1), "Customer": schema(CustomerV1)}
    new = {"Order": schema(OrderRemoved), "Customer": schema(CustomerV1)}
    report = assess("acme-models", "1.0.0", "1.1.0", old, new)
    assert (report.required_bump, report.actual_bump, report.ok) == ("major", "minor", False)
    assert report.lines() == ["Customer: unchanged", "Order: field removed `note` (breaking)"]
    assert report.summary() == (
        "acme-models 1.1.0 vs 1.0.0: 1 of 2 models changed; needs a major bump, "
        "this is a minor bump: refused"
    )


def test_breaking_change_with_major_bump_passes() -> None:
    old, new = {"Order": schema(OrderV1)}, {"Order": schema(OrderNewRequired)}
    assert assess("acme-models", "1.0.0", "2.0.0", old, new).ok


def test_additive_change_needs_a_minor_bump() -> None:
    old, new = {"Order": schema(OrderV1)}, {"Order": schema(OrderNewOptional)}
    assert assess("acme-models", "1.0.0", "1.1.0", old, new).ok
    patch = assess("acme-models", "1.0.0", "1.0.1", old, new)
    assert (patch.required_bump, patch.ok) == ("minor", False)


def test_no_change_passes_with_a_patch() -> None:
    report = assess("acme-models", "1.0.0", "1.0.1", {"O": schema(OrderV1)}, {"O": schema(OrderV1)})
    assert (report.required_bump, report.ok, report.lines()) == ("patch", True, ["O: unchanged"])
