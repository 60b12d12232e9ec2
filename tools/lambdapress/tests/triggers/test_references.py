"""Resource references in handler code, on generated input: an id, or an error at the line.

`name` is the module's own service's, `service/name` another's; anything else, including the
module's own service written out, is refused with the file, the line and the fix.
"""

from __future__ import annotations

import ast
import os
import re
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.event_settings import REFERENCE
from lambdapress.errors import BundleError
from lambdapress.model.trigger_kinds import HandlerSource
from lambdapress.triggers._references import resource_id

PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
)
SOURCE = HandlerSource(
    path=Path("/repo/services/work/src/work/handlers/drain.py"),
    tree=ast.parse(""),
    module="work.handlers.drain",
    function="work.drain",
    deployed_as="work.drain",
)
NAMES = st.from_regex(r"\A[a-z][a-z0-9-]{0,39}\Z")
SERVICES = st.from_regex(r"\A[a-z][a-z0-9_-]{0,20}\Z").filter(lambda s: s != "work")
ID = re.compile(r"[a-z][a-z0-9_-]*/sqs-queue/[a-z][a-z0-9-]{0,39}")


@PROPERTIES
@given(NAMES)
def test_a_name_is_the_modules_own_services(name: str) -> None:
    assert resource_id(SOURCE, name, "sqs-queue", 7, "q") == f"work/sqs-queue/{name}"


@PROPERTIES
@given(SERVICES, NAMES)
def test_a_qualified_name_is_the_other_services(service: str, name: str) -> None:
    reference = f"{service}/{name}"
    assert resource_id(SOURCE, reference, "sqs-queue", 7, "q") == f"{service}/sqs-queue/{name}"


@PROPERTIES
@given(NAMES)
def test_the_modules_own_service_written_out_is_refused_with_the_name(name: str) -> None:
    try:
        resource_id(SOURCE, f"work/{name}", "sqs-queue", 7, "q")
    except BundleError as error:
        assert (error.path, error.line) == (SOURCE.path, 7)
        assert error.hint is not None and error.hint.startswith(f"write {name!r}")
    else:
        raise AssertionError("accepted")


@PROPERTIES
@given(st.text(max_size=60) | st.integers() | st.none() | st.lists(st.text(max_size=5)))
def test_anything_is_an_id_or_an_error_at_the_line(reference: object) -> None:
    try:
        made = resource_id(SOURCE, reference, "sqs-queue", 7, "the queue")
    except BundleError as error:
        assert (error.path, error.line) == (SOURCE.path, 7)
        assert error.hint
        assert not (isinstance(reference, str) and REFERENCE.fullmatch(reference)) or (
            reference.startswith("work/")
        )
    else:
        assert isinstance(reference, str) and ID.fullmatch(made)
