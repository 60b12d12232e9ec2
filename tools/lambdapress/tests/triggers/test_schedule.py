"""Schedules: `@triggers.schedule`, EventBridge's expressions checked at package time."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.config.event_rules import CRON_FIX, RATE_FIX
from lambdapress.model.triggers import ScheduleTrigger
from lambdapress.triggers.schedule import KIND

from .events import HANDLER, IMPORT, Repo, refused


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_schedule_with_its_input_needs_no_permission(repo: Repo) -> None:
    source = IMPORT + '@triggers.schedule("rate(5 minutes)", input={"job": "sweep"})' + HANDLER
    repo.service("work", sweep=source)
    (trigger,) = repo.function("work.sweep").triggers
    assert trigger == ScheduleTrigger(expression="rate(5 minutes)", input={"job": "sweep"})
    assert trigger.label == "rate(5 minutes)"
    assert KIND.permissions("work.sweep", trigger) == ()


def test_a_five_field_cron_fails_package_with_the_fix(repo: Repo) -> None:
    repo.service("work", sweep=IMPORT + '\n@triggers.schedule("cron(0 12 * * MON)")' + HANDLER)
    error = refused(repo, repo.module("work", "sweep"), 3, fix=CRON_FIX)
    assert "has 5 fields" in error.message
    assert error.hint == (
        "EventBridge's cron has six fields: add the year (`*`) and use `?` for day-of-month or "
        "day-of-week, e.g. cron(0 12 * * ? *)"
    )


def test_a_rate_with_the_wrong_plural_is_refused(repo: Repo) -> None:
    repo.service("work", sweep=IMPORT + '@triggers.schedule("rate(1 minutes)")' + HANDLER)
    error = refused(repo, repo.module("work", "sweep"), 2, fix=RATE_FIX)
    assert "rate(1 minute)" in error.message


def test_an_input_over_eventbridges_size_is_refused(repo: Repo) -> None:
    big = "x" * 9000
    source = IMPORT + f'@triggers.schedule("rate(1 day)", input={{"blob": "{big}"}})' + HANDLER
    repo.service("work", sweep=source)
    refused(repo, repo.module("work", "sweep"), 2, fix="send a smaller event")


def test_an_input_that_is_not_an_object_is_refused(repo: Repo) -> None:
    repo.service("work", sweep=IMPORT + '@triggers.schedule("rate(1 day)", input=[1])' + HANDLER)
    refused(repo, repo.module("work", "sweep"), 2, fix="AWS's", message="input")
