from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

import acme_models
from acme_models import Entity, Page


def make_entity(**overrides: object) -> Entity:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    fields: dict[str, object] = {"id": "e1", "created_at": now, "updated_at": now}
    fields.update(overrides)
    return Entity.model_validate(fields)


def test_entity_round_trips_through_json() -> None:
    entity = make_entity()
    assert Entity.model_validate_json(entity.model_dump_json()) == entity


def test_entity_refuses_naive_timestamps_and_empty_ids() -> None:
    with pytest.raises(ValidationError) as caught:
        make_entity(id="", created_at=datetime(2026, 1, 1))
    assert {error["loc"][0] for error in caught.value.errors()} == {"id", "created_at"}


def test_entity_is_immutable() -> None:
    with pytest.raises(ValidationError):
        make_entity().id = "other"  # type: ignore[misc]


def test_age_is_measured_from_creation() -> None:
    entity = make_entity()
    assert entity.age_at(entity.created_at + timedelta(seconds=90)) == 90


def test_page_is_generic_over_its_items() -> None:
    page = Page[Entity](items=[make_entity()])
    assert page.next_cursor is None
    schema = Page[Entity].model_json_schema()
    assert schema["properties"]["items"]["items"]["$ref"].endswith("Entity")


def test_the_package_exports_a_version() -> None:
    assert acme_models.__version__.count(".") >= 2
