"""SNS: `@triggers.sns` and `triggers.Topic`, checked at package time against declared topics."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.config.event_rules import FILTER_POLICY_FIX
from lambdapress.model.triggers import SnsTrigger
from lambdapress.triggers.sns import KIND

from .events import HANDLER, IMPORT, Repo, refused

TOPICS = "[tool.lambdapress.topics.events]\n[tool.lambdapress.topics.ordered]\nfifo = true\n"


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    repo = Repo(tmp_path / "repo")
    repo.service("shop", TOPICS)
    return repo


def test_a_trigger_names_its_topic_and_filter_and_needs_no_permission(repo: Repo) -> None:
    source = IMPORT + '@triggers.sns("shop/events", filter_policy={"type": ["Placed"]})' + HANDLER
    repo.service("mail", send=source)
    (trigger,) = repo.function("mail.send").triggers
    assert trigger == SnsTrigger(topic="shop/sns-topic/events", filter_policy={"type": ["Placed"]})
    assert trigger.label == "shop/events"
    assert KIND.permissions("mail.send", trigger) == ()  # SNS invokes it: resource-based


def test_a_publisher_gets_sns_publish_on_that_topic_only(repo: Repo) -> None:
    repo.service("orders", place=IMPORT + 'EVENTS = triggers.Topic("shop/events")\n' + HANDLER)
    (used,) = repo.function("orders.place").used
    (permission,) = used.permissions
    assert permission.actions == ("sns:Publish",)
    assert permission.resources == ("resource:shop/sns-topic/events",)
    assert "EVENTS at orders.handlers.place:2" in permission.reason


def test_a_topic_nobody_declares_is_refused(repo: Repo) -> None:
    repo.service("mail", send=IMPORT + '@triggers.sns("shop/gone")' + HANDLER)
    refused(repo, repo.module("mail", "send"), 2, fix="[tool.lambdapress.topics.gone]")


def test_a_publisher_to_a_topic_nobody_declares_is_refused(repo: Repo) -> None:
    repo.service("mail", send=IMPORT + 'GONE = triggers.Topic("gone")\n' + HANDLER)
    refused(repo, repo.module("mail", "send"), 2, fix="[tool.lambdapress.topics.gone]")


def test_a_fifo_topic_cannot_run_a_function(repo: Repo) -> None:
    repo.service("mail", send=IMPORT + '@triggers.sns("shop/ordered")' + HANDLER)
    refused(repo, repo.module("mail", "send"), 2, fix="drain it with @triggers.sqs")


@pytest.mark.parametrize(
    "policy",
    ['{"type": "Placed"}', "{}", '{"order": {"type": ["x"]}}'],
)
def test_a_filter_policy_that_is_not_an_object_of_lists_is_refused(repo: Repo, policy: str) -> None:
    source = IMPORT + f'@triggers.sns("shop/events", filter_policy={policy})' + HANDLER
    repo.service("mail", send=source)
    refused(repo, repo.module("mail", "send"), 2, fix=FILTER_POLICY_FIX)


def test_a_nested_policy_is_the_bodys(repo: Repo) -> None:
    source = (
        IMPORT + '@triggers.sns("shop/events", filter_policy={"order": {"type": ["x"]}}, '
        'filter_policy_scope="MessageBody")' + HANDLER
    )
    repo.service("mail", send=source)
    (trigger,) = repo.function("mail.send").triggers
    assert isinstance(trigger, SnsTrigger) and trigger.filter_policy_scope == "MessageBody"
