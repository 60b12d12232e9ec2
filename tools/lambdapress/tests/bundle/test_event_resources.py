"""A service's queues, topics, buses and buckets: the model's resources, checked at package time.

References between them (a dead-letter queue, a subscribed topic) become ids and are checked
once every service is read, at the line of the pyproject key to fix; their names in the account
are checked with the longest project and stage.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from triggers.events import Repo, line_of, refused

from lambdapress.bundle._wiring import service_resources
from lambdapress.config.workspace import load_workspace
from lambdapress.model.resources import (
    EventBus,
    S3Bucket,
    SnsTopic,
    SqsQueue,
    TopicSubscription,
)


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_services_resources_are_its_queues_topics_buses_and_buckets_by_id(repo: Repo) -> None:
    repo.service(
        "work",
        """
        [tool.lambdapress.queues.jobs]
        visibility_timeout = 60
        dead_letter = "failed"
        max_receives = 3
        subscribe = [{ topic = "shop/events", filter_policy = { type = ["Placed"] } }]
        [tool.lambdapress.queues.failed]
        [tool.lambdapress.topics.done]
        fifo = true
        [tool.lambdapress.buses.work]
        [tool.lambdapress.buckets.reports]
        """,
    )
    repo.service("shop", "[tool.lambdapress.topics.events]\n")
    checked = repo.check()
    assert checked.resources["work"] == (
        EventBus(service="work", name="work"),
        S3Bucket(service="work", name="reports"),
        SnsTopic(service="work", name="done", fifo=True),
        SqsQueue(service="work", name="failed"),
        SqsQueue(
            service="work",
            name="jobs",
            visibility_timeout=60,
            dead_letter="work/sqs-queue/failed",
            max_receives=3,
            subscriptions=(
                TopicSubscription(
                    topic="shop/sns-topic/events", filter_policy={"type": ["Placed"]}
                ),
            ),
        ),
    )
    workspace = load_workspace(repo.root)
    assert service_resources(workspace.services[1], repo.root) == checked.resources["work"]


def test_a_dead_letter_queue_nobody_declares_is_refused_at_its_key(repo: Repo) -> None:
    settings = '[tool.lambdapress.queues.jobs]\ndead_letter = "failed"\nmax_receives = 3\n'
    repo.service("work", settings)
    pyproject = repo.pyproject("work")
    error = refused(
        repo,
        pyproject,
        line_of(pyproject, "dead_letter"),
        fix="[tool.lambdapress.queues.failed] in service work's pyproject",
    )
    assert "queue work/jobs's dead_letter names work/failed, which no service declares" in str(
        error
    )


@pytest.mark.parametrize(("fifo", "types"), [(True, "FIFO, its"), (False, "standard, its")])
def test_a_dead_letter_queue_of_the_other_type_is_refused(
    repo: Repo, fifo: bool, types: str
) -> None:
    settings = (
        f"[tool.lambdapress.queues.jobs]\nfifo = {str(fifo).lower()}\n"
        'dead_letter = "failed"\nmax_receives = 3\n'
        f"[tool.lambdapress.queues.failed]\nfifo = {str(not fifo).lower()}\n"
    )
    repo.service("work", settings)
    pyproject = repo.pyproject("work")
    refused(
        repo,
        pyproject,
        line_of(pyproject, "dead_letter"),
        fix=f"fifo = {str(fifo).lower()}",
        message=f"queue work/jobs is {types} dead_letter",
    )


def test_a_queue_that_is_its_own_dead_letter_is_refused(repo: Repo) -> None:
    settings = '[tool.lambdapress.queues.jobs]\ndead_letter = "jobs"\nmax_receives = 3\n'
    repo.service("work", settings)
    pyproject = repo.pyproject("work")
    refused(repo, pyproject, line_of(pyproject, "dead_letter"), fix="jobs-dlq")


def test_a_reference_naming_its_own_service_is_refused_with_the_short_name(repo: Repo) -> None:
    settings = (
        '[tool.lambdapress.queues.jobs]\ndead_letter = "work/failed"\nmax_receives = 3\n'
        "[tool.lambdapress.queues.failed]\n"
    )
    repo.service("work", settings)
    pyproject = repo.pyproject("work")
    refused(repo, pyproject, line_of(pyproject, "dead_letter"), fix="write 'failed'")


def test_a_subscription_to_a_topic_nobody_declares_is_refused(repo: Repo) -> None:
    repo.service("work", '[tool.lambdapress.queues.jobs]\nsubscribe = [{ topic = "shop/x" }]\n')
    repo.service("shop")
    pyproject = repo.pyproject("work")
    refused(
        repo,
        pyproject,
        line_of(pyproject, "subscribe"),
        fix="[tool.lambdapress.topics.x] in service shop's pyproject",
    )


def test_a_fifo_queue_on_a_standard_topic_is_refused(repo: Repo) -> None:
    repo.service(
        "work",
        '[tool.lambdapress.queues.jobs]\nfifo = true\nsubscribe = [{ topic = "shop/events" }]\n',
    )
    repo.service("shop", "[tool.lambdapress.topics.events]\n")
    pyproject = repo.pyproject("work")
    refused(repo, pyproject, line_of(pyproject, "subscribe"), fix="make the topic FIFO")


def test_a_standard_queue_on_a_fifo_topic_is_what_sns_delivers(repo: Repo) -> None:
    """SNS Developer Guide, "Message delivery for FIFO topics": to FIFO and standard queues."""
    repo.service("work", '[tool.lambdapress.queues.jobs]\nsubscribe = [{ topic = "shop/e" }]\n')
    repo.service("shop", "[tool.lambdapress.topics.e]\nfifo = true\n")
    (queue,) = repo.check().resources["work"]
    assert isinstance(queue, SqsQueue) and queue.subscriptions[0].topic == "shop/sns-topic/e"


def test_a_subscriptions_filter_policy_sns_refuses_is_refused(repo: Repo) -> None:
    repo.service(
        "work",
        "[tool.lambdapress.queues.jobs]\n"
        'subscribe = [{ topic = "shop/events", filter_policy = { type = "Placed" } }]\n',
    )
    repo.service("shop", "[tool.lambdapress.topics.events]\n")
    pyproject = repo.pyproject("work")
    refused(
        repo,
        pyproject,
        line_of(pyproject, "subscribe"),
        fix="lists of values",
        message="maps 'type' to 'Placed', not to a list",
    )


def test_names_longer_than_aws_allows_at_the_longest_stage_are_accepted(repo: Repo) -> None:
    """Deploy fits them as it fits function names (`model.event_names`, tested there)."""
    settings = f"[tool.lambdapress.queues.{'a' * 40}]\n[tool.lambdapress.queues.{'b' * 40}]\n"
    repo.service("work", settings + "fifo = true\n" + f"[tool.lambdapress.topics.{'t' * 40}]\n")
    assert len(repo.check().resources["work"]) == 3
