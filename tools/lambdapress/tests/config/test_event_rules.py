"""EventBridge's, SNS's and S3's rules, as `package` applies them to declared event sources.

Schedules are checked on generated expressions (hypothesis): every well-formed rate and
six-field cron is accepted, every five-field cron gets the fix naming the year and `?`, a rate
with the wrong plural is refused with the right one, and no text makes the check crash. The
enumerations and lengths are held equal to botocore's service models.
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import botocore
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.config.event_rules import (
    CRON_FIX,
    EVENT_PATTERN_MAX,
    QUEUE_NAME,
    RATE_FIX,
    S3_EVENTS,
    SCHEDULE_EXPRESSION_MAX,
    TARGET_INPUT_MAX,
    event_pattern_problem,
    filter_policy_problem,
    s3_events_overlap,
    s3_filters_overlap,
    schedule_problem,
)

PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
)
MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]
DAYS = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"]


def _numbers(low: int, high: int, names: list[str] | None = None) -> st.SearchStrategy[str]:
    """One field's values: numbers, ranges, lists, steps (and names where it has them)."""
    value = st.integers(low, high).map(str)
    if names:
        value = value | st.sampled_from(names)
    ranged = st.tuples(value, value).map("-".join)
    stepped = st.tuples(st.sampled_from(["*", str(low)]), st.integers(1, 30)).map(
        lambda pair: f"{pair[0]}/{pair[1]}"
    )
    item = value | ranged | stepped
    return st.just("*") | st.lists(item, min_size=1, max_size=3).map(",".join)


@st.composite
def six_field_crons(draw: st.DrawFn) -> str:
    minutes = draw(_numbers(0, 59))
    hours = draw(_numbers(0, 23))
    month = draw(_numbers(1, 12, MONTHS))
    year = draw(_numbers(1970, 2199))
    day_of_month = draw(_numbers(1, 31) | st.sampled_from(["L", "LW", "15W"]))
    day_of_week = draw(_numbers(1, 7, DAYS) | st.sampled_from(["L", "6L", "3#2", "MON#1"]))
    if draw(st.booleans()):
        day_of_month = "?"
    else:
        day_of_week = "?"
    return f"cron({minutes} {hours} {day_of_month} {month} {day_of_week} {year})"


@PROPERTIES
@given(six_field_crons())
def test_every_six_field_cron_with_one_question_mark_is_accepted(expression: str) -> None:
    assert schedule_problem(expression) is None


@PROPERTIES
@given(six_field_crons())
def test_a_five_field_cron_is_refused_with_the_fix_naming_the_year(expression: str) -> None:
    five = expression.rsplit(" ", 1)[0] + ")"  # the year dropped: Unix cron's five fields
    found = schedule_problem(five)
    assert found is not None
    problem, fix = found
    assert "has 5 fields" in problem and "six" in problem
    assert fix == CRON_FIX
    assert "add the year (`*`)" in fix and "cron(0 12 * * ? *)" in fix


@PROPERTIES
@given(st.integers(1, 10_000), st.sampled_from(["minute", "hour", "day"]))
def test_a_rate_needs_the_singular_for_one_and_the_plural_otherwise(value: int, unit: str) -> None:
    right = unit if value == 1 else f"{unit}s"
    wrong = f"{unit}s" if value == 1 else unit
    assert schedule_problem(f"rate({value} {right})") is None
    found = schedule_problem(f"rate({value} {wrong})")
    assert found is not None
    problem, fix = found
    assert f"rate({value} {right})" in problem  # the right spelling, in the message
    assert fix == RATE_FIX


@PROPERTIES
@given(st.text(max_size=80))
def test_any_text_gets_an_answer_never_a_crash(text: str) -> None:
    for expression in (text, f"rate({text})", f"cron({text})"):
        found = schedule_problem(expression)
        assert found is None or (found[0] and found[1])


@pytest.mark.parametrize(
    ("expression", "wanted"),
    [
        ("rate(0 minutes)", "not a whole number of at least 1"),
        ("rate(5 seconds)", "not a unit"),
        ("rate(five minutes)", "not a whole number"),
        ("rate(5minutes)", "not rate(N unit)"),
        ("cron(0 12 * * * *)", "exactly one of day-of-month"),
        ("cron(0 12 ? * ? *)", "exactly one of day-of-month"),
        ("cron(60 12 ? * MON *)", "'60' is not a minutes (0-59)"),
        ("cron(0 24 ? * MON *)", "is not a hours"),
        ("cron(0 12 ? 13 MON *)", "'13' is not a month"),
        ("cron(0 12 ? * FUN *)", "'FUN' is not a day-of-week"),
        ("cron(0 12 ? * MON 1969)", "'1969' is not a year"),
        ("cron(0/0 12 ? * MON *)", "step"),
        ("cron(? 12 1 * ? *)", "`?` is for day-of-month or day-of-week only"),
        ("cron(0 12 ? * MON#6 *)", "day#n"),
        ("every 5 minutes", "is not an EventBridge schedule expression"),
        ("rate(" + "1" * SCHEDULE_EXPRESSION_MAX + " minutes)", "characters"),
    ],
)
def test_what_eventbridge_refuses_is_named(expression: str, wanted: str) -> None:
    found = schedule_problem(expression)
    assert found is not None
    assert wanted in found[0]


@pytest.mark.parametrize(
    "expression",
    ["rate(1 minute)", "rate(2 hours)", "rate(1 day)", "cron(0 12 * * ? *)",
     "cron(0/15 8-17 ? * MON-FRI *)", "cron(0 0 L * ? *)", "cron(15 10 ? * 6L 2030-2040)"],
)  # fmt: skip
def test_the_user_guides_examples_are_accepted(expression: str) -> None:
    assert schedule_problem(expression) is None


@pytest.mark.parametrize(
    ("pattern", "wanted"),
    [
        ({}, "empty object"),
        ([], "not an object"),
        ({"source": "orders"}, "maps 'source' to 'orders', not to a list"),
        ({"source": []}, "empty list"),
        ({"detail": {"total": 5}}, "'detail'"),
        ({"detail": {}}, "empty object"),
        ({"source": ["x" * EVENT_PATTERN_MAX]}, "characters as JSON"),
    ],
)
def test_an_event_pattern_is_an_object_whose_leaves_are_lists(pattern: Any, wanted: str) -> None:
    problem = event_pattern_problem(pattern)
    assert problem is not None and wanted in problem


def test_a_good_event_pattern_passes() -> None:
    pattern = {"source": ["orders"], "detail": {"total": [{"numeric": [">", 0]}]}}
    assert event_pattern_problem(pattern) is None


def test_a_filter_policy_is_an_object_of_lists_nested_only_for_the_body() -> None:
    assert filter_policy_problem({"type": ["OrderPlaced"]}) is None
    assert filter_policy_problem({"order": {"type": ["x"]}}, "MessageBody") is None
    nested = filter_policy_problem({"order": {"type": ["x"]}})
    assert nested is not None and "not to a list" in nested
    bare = filter_policy_problem({"type": "OrderPlaced"})
    assert bare is not None and "not to a list of values" in bare
    assert filter_policy_problem(["type"]) is not None


def test_s3_events_overlap_when_one_covers_the_other() -> None:
    created = ("s3:ObjectCreated:*",)
    assert s3_events_overlap(created, ("s3:ObjectCreated:Put",)) is not None
    assert s3_events_overlap(("s3:ObjectCreated:Put",), created) is not None
    assert s3_events_overlap(("s3:ObjectCreated:Put",), ("s3:ObjectCreated:Post",)) is None
    assert s3_events_overlap(created, ("s3:ObjectRemoved:*",)) is None


@pytest.mark.parametrize(
    ("first", "second", "overlap"),
    [
        (("in/", ""), ("in/", ""), True),
        (("", ""), ("in/", ".csv"), True),  # the empty filter matches every key
        (("in/", ".csv"), ("in/", ".json"), False),  # AWS's own example of a valid pair
        (("in/", ""), ("out/", ""), False),
        (("in/", ".csv"), ("in/deep/", "big.csv"), True),
        (("images/", ".jpg"), ("videos/", ".jpg"), False),
    ],
)
def test_s3_filters_overlap_when_some_key_matches_both(
    first: tuple[str, str], second: tuple[str, str], overlap: bool
) -> None:
    assert s3_filters_overlap(first, second) is overlap
    assert s3_filters_overlap(second, first) is overlap


def _botocore_model(service: str) -> dict[str, Any]:
    folder = Path(botocore.__file__).parent / "data" / service
    (model,) = sorted(folder.glob("*/service-2.json*"))[-1:]
    data = gzip.decompress(model.read_bytes()) if model.suffix == ".gz" else model.read_bytes()
    loaded: dict[str, Any] = json.loads(data)
    return loaded


def test_the_rules_are_botocores() -> None:
    s3 = _botocore_model("s3")
    assert sorted(S3_EVENTS) == sorted(s3["shapes"]["Event"]["enum"])
    events = _botocore_model("events")
    assert events["shapes"]["ScheduleExpression"]["max"] == SCHEDULE_EXPRESSION_MAX
    assert events["shapes"]["EventPattern"]["max"] == EVENT_PATTERN_MAX
    assert events["shapes"]["TargetInput"]["max"] == TARGET_INPUT_MAX


def test_queue_names_are_at_most_80_characters_with_fifo() -> None:
    assert QUEUE_NAME.problem("a" * 75 + ".fifo") is None
    long = QUEUE_NAME.problem("a" * 76 + ".fifo")
    assert long is not None and "81 characters" in long
