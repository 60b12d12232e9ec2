"""A service's queues, topics, buses and buckets: AWS's limits and errors that say the fix."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lambdapress.config.event_settings import REFERENCE, RESOURCE_NAME, split_reference
from lambdapress.config.settings import load_service_settings
from lambdapress.errors import ConfigError

Writer = Callable[[Path, str], Path]

WORKERS = """
[project]
name = "workers"

[tool.lambdapress.queues.order-placed]
visibility_timeout = 60
dead_letter = "order-placed-dlq"
max_receives = 3
subscribe = [{ topic = "orders/order-events", filter_policy = { type = ["OrderPlaced"] } }]

[tool.lambdapress.queues.order-placed-dlq]
retention_seconds = 1209600

[tool.lambdapress.topics.audit]
fifo = true

[tool.lambdapress.buses.workers]

[tool.lambdapress.buckets.uploads]
"""


def test_the_documented_declarations_load(tmp_path: Path, write_file: Writer) -> None:
    settings = load_service_settings(write_file(tmp_path / "pyproject.toml", WORKERS))

    queue = settings.queues["order-placed"]
    assert (queue.visibility_timeout, queue.dead_letter, queue.max_receives) == (
        60,
        "order-placed-dlq",
        3,
    )
    assert queue.subscribe[0].topic == "orders/order-events"
    assert queue.subscribe[0].filter_policy == {"type": ["OrderPlaced"]}
    assert queue.subscribe[0].raw_message_delivery is True
    assert settings.queues["order-placed-dlq"].retention_seconds == 1_209_600
    assert settings.topics["audit"].fifo is True
    assert set(settings.buses) == {"workers"}
    assert set(settings.buckets) == {"uploads"}


@pytest.mark.parametrize(
    ("body", "key", "fix"),
    [
        ("[tool.lambdapress.queues.Orders]\n", "queues", "lowercase letters"),
        ("[tool.lambdapress.queues.q]\nvisibility_timeout = 43201\n", "queues", "43200"),
        ("[tool.lambdapress.queues.q]\nretention_seconds = 59\n", "queues", "retention"),
        ("[tool.lambdapress.queues.q]\nmax_receives = 3\n", "queues", "dead_letter"),
        ('[tool.lambdapress.queues.q]\ndead_letter = "d"\n', "queues", "max_receives"),
        ('[tool.lambdapress.queues.q]\ndead_letter = "a/b/c"\nmax_receives = 2\n', "queues", ""),
        ("[tool.lambdapress.queues.q]\nfifo = 1\n", "queues", "fifo"),
        ('[tool.lambdapress.queues.q]\nsubscribe = [{ topic = "T" }]\n', "queues", "subscribe"),
        ("[tool.lambdapress.queues.q]\nsubscribe = [{ topic = 't', x = 1 }]\n", "queues", ""),
        ("[tool.lambdapress.topics.t]\nfifo = 'yes'\n", "topics", "fifo = true"),
        ("[tool.lambdapress.buses.b]\nname = 'x'\n", "buses", "buses.NAME"),
        ("[tool.lambdapress.buckets.Up_Loads]\n", "buckets", "buckets.NAME"),
    ],
)
def test_bad_declarations_name_the_file_the_key_and_the_fix(
    tmp_path: Path, write_file: Writer, body: str, key: str, fix: str
) -> None:
    path = write_file(tmp_path / "pyproject.toml", '[project]\nname = "x"\n' + body)

    with pytest.raises(ConfigError) as info:
        load_service_settings(path)

    error = info.value
    assert error.path == path
    assert error.line is not None and error.line >= 3
    assert f"tool.lambdapress.{key}" in error.message
    assert error.hint is not None and fix in error.hint


@given(
    st.from_regex(RESOURCE_NAME, fullmatch=True),
    st.from_regex(r"[a-z][a-z0-9_-]{0,20}", fullmatch=True),
)
def test_a_reference_is_a_name_of_this_service_or_service_slash_name(
    name: str, service: str
) -> None:
    assert split_reference(name, "here") == ("here", name)
    assert REFERENCE.match(f"{service}/{name}")
    assert split_reference(f"{service}/{name}", "here") == (service, name)


@given(st.text(max_size=60))
def test_anything_else_is_not_a_reference(text: str) -> None:
    found = REFERENCE.match(text)
    if found is None:
        with pytest.raises(ValueError, match="not a resource reference"):
            split_reference(text, "here")
    else:
        assert found.group("name") == text.rsplit("/", 1)[-1]
