"""EventBridge rules: `@triggers.rule` and `triggers.Bus`, checked at package time."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.config.event_rules import PATTERN_FIX
from lambdapress.model.triggers import EventRuleTrigger
from lambdapress.triggers.eventbridge import KIND

from .events import HANDLER, IMPORT, Repo, refused


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.service("shop", "[tool.lambdapress.buses.shop]\n")
    return repo


def test_a_rule_on_the_default_bus_and_one_on_a_declared_bus(repo: Repo) -> None:
    source = (
        IMPORT + '@triggers.rule({"source": ["aws.s3"]})\n'
        '@triggers.rule({"detail-type": ["Placed"]}, bus="shop/shop")' + HANDLER
    )
    repo.service("mail", react=source)
    assert repo.function("mail.react").triggers == (
        EventRuleTrigger(pattern={"source": ["aws.s3"]}),
        EventRuleTrigger(pattern={"detail-type": ["Placed"]}, bus="shop/event-bus/shop"),
    )
    assert [t.label for t in repo.function("mail.react").triggers] == [
        "on default",
        "on shop/shop",
    ]
    assert KIND.permissions("mail.react", repo.function("mail.react").triggers[0]) == ()


def test_a_putter_gets_events_put_events_on_that_bus(repo: Repo) -> None:
    repo.service("shop2", put=IMPORT + 'BUS = triggers.Bus("shop/shop")\n' + HANDLER)
    (used,) = repo.function("shop2.put").used
    assert used.permissions[0].actions == ("events:PutEvents",)
    assert used.permissions[0].resources == ("resource:shop/event-bus/shop",)


def test_a_bus_nobody_declares_is_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.rule({"source": ["x"]}, bus="audit")' + HANDLER
    repo.service("mail", react=source)
    refused(repo, repo.module("mail", "react"), 2, fix="[tool.lambdapress.buses.audit]")


@pytest.mark.parametrize("pattern", ["{}", '{"source": "orders"}', '{"detail": {}}'])
def test_a_pattern_that_is_not_an_object_of_lists_is_refused(repo: Repo, pattern: str) -> None:
    repo.service("mail", react=IMPORT + f"@triggers.rule({pattern})" + HANDLER)
    refused(repo, repo.module("mail", "react"), 2, fix=PATTERN_FIX)
