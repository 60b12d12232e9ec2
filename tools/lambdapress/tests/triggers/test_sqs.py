"""SQS: `@triggers.sqs` and `triggers.Queue`, checked at package time against declared queues."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.model.permissions import resource_ref
from lambdapress.model.triggers import SqsTrigger
from lambdapress.triggers.sqs import CONSUMER_ACTIONS, KIND

from .events import HANDLER, IMPORT, Repo, line_of, refused

JOBS = """
timeout = 10
[tool.lambdapress.queues.jobs]
visibility_timeout = 60
[tool.lambdapress.queues.ordered]
fifo = true
visibility_timeout = 60
"""


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


def test_a_trigger_names_its_queue_by_id_and_may_drain_it(repo: Repo) -> None:
    repo.service(
        "work",
        JOBS,
        drain=IMPORT + '@triggers.sqs("jobs", batch_size=20, batch_window=5)' + HANDLER,
    )
    (trigger,) = repo.function("work.drain").triggers
    assert trigger == SqsTrigger(queue="work/sqs-queue/jobs", batch_size=20, batch_window=5)
    assert trigger.label == "work/jobs"
    (permission,) = KIND.permissions("work.drain", trigger)
    assert permission.actions == CONSUMER_ACTIONS
    assert permission.resources == (resource_ref("work/sqs-queue/jobs"),)


def test_another_services_queue_is_named_service_slash_name(repo: Repo) -> None:
    repo.service("work", JOBS)
    repo.service("audit", drain=IMPORT + '@triggers.sqs("work/jobs")' + HANDLER)
    assert repo.function("audit.drain").triggers == (SqsTrigger(queue="work/sqs-queue/jobs"),)


def test_a_queue_nobody_declares_is_refused_naming_the_table_that_would(repo: Repo) -> None:
    repo.service("work", "timeout = 10\n", drain=IMPORT + '\n@triggers.sqs("jobs")' + HANDLER)
    error = refused(
        repo,
        repo.module("work", "drain"),
        3,
        fix=f"declare it in {repo.pyproject('work')} as [tool.lambdapress.queues.jobs]",
    )
    assert "names the queue 'jobs' of service work, which its pyproject does not" in error.message


def test_a_queue_of_a_service_that_does_not_exist_is_refused(repo: Repo) -> None:
    repo.service("work", drain=IMPORT + '@triggers.sqs("billing/jobs")' + HANDLER)
    error = refused(repo, repo.module("work", "drain"), 2, fix="`service/name`")
    assert "there is no service 'billing' (services: work)" in error.message


def test_a_sender_of_a_queue_nobody_declares_is_refused_at_the_handle(repo: Repo) -> None:
    repo.service("work", send=IMPORT + '\n\nJOBS = triggers.Queue("work2/jobs")\n' + HANDLER)
    repo.service("work2")
    refused(
        repo,
        repo.module("work", "send"),
        4,
        fix="as [tool.lambdapress.queues.jobs]",
        message="triggers.Queue(...) names the queue 'jobs' of service work2",
    )


def test_naming_the_modules_own_service_is_refused_with_the_short_name(repo: Repo) -> None:
    repo.service("work", JOBS, drain=IMPORT + '@triggers.sqs("work/jobs")' + HANDLER)
    refused(repo, repo.module("work", "drain"), 2, fix="write 'jobs'", message="own service")


def test_a_malformed_reference_is_refused_with_the_naming_rule(repo: Repo) -> None:
    repo.service("work", JOBS, drain=IMPORT + '@triggers.sqs("Jobs_Queue")' + HANDLER)
    refused(repo, repo.module("work", "drain"), 2, fix="lowercase letters, digits and '-'")


def test_a_batch_window_on_a_fifo_queue_is_refused(repo: Repo) -> None:
    source = IMPORT + '@triggers.sqs("ordered", batch_window=5)' + HANDLER
    repo.service("work", JOBS, drain=source)
    refused(repo, repo.module("work", "drain"), 2, fix="remove batch_window", message="FIFO")


def test_a_batch_over_ten_from_a_fifo_queue_is_refused(repo: Repo) -> None:
    repo.service("work", JOBS, drain=IMPORT + '@triggers.sqs("ordered", batch_size=11)' + HANDLER)
    refused(repo, repo.module("work", "drain"), 2, fix="set batch_size to 10 or less")


def test_a_batch_over_ten_without_a_window_is_refused(repo: Repo) -> None:
    repo.service("work", JOBS, drain=IMPORT + '@triggers.sqs("jobs", batch_size=11)' + HANDLER)
    refused(repo, repo.module("work", "drain"), 2, fix="add batch_window=1")


def test_a_queue_drained_by_two_functions_is_refused_naming_both(repo: Repo) -> None:
    repo.service(
        "work",
        JOBS,
        a_drain=IMPORT + '@triggers.sqs("jobs")' + HANDLER,
        b_drain=IMPORT + '\n@triggers.sqs("jobs")' + HANDLER,
    )
    first = repo.module("work", "a_drain")
    error = refused(repo, repo.module("work", "b_drain"), 3, fix="pick one function")
    assert f"{first}:2 (work.a_drain)" in error.message


def test_a_visibility_timeout_below_the_consumers_timeout_is_refused_at_its_key(
    repo: Repo,
) -> None:
    settings = "timeout = 30\n[tool.lambdapress.queues.jobs]\nvisibility_timeout = 20\n"
    repo.service("work", settings, drain=IMPORT + '@triggers.sqs("jobs")' + HANDLER)
    pyproject = repo.pyproject("work")
    error = refused(
        repo,
        pyproject,
        line_of(pyproject, "visibility_timeout = 20"),
        fix="set visibility_timeout = 180",
    )
    assert "at least the timeout, 30; AWS advises six times it" in (error.hint or "")
    assert "less than the 30 s timeout of its consumer work.drain" in error.message


def test_the_default_visibility_is_checked_too(repo: Repo) -> None:
    settings = "timeout = 60\n[tool.lambdapress.queues.jobs]\n"  # SQS's default: 30 s
    repo.service("work", settings, drain=IMPORT + '@triggers.sqs("jobs")' + HANDLER)
    pyproject = repo.pyproject("work")
    refused(repo, pyproject, line_of(pyproject, "queues.jobs"), fix="visibility_timeout = 360")
