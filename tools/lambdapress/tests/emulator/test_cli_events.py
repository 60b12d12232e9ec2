"""`lambdapress event` and `lambdapress trigger`, run as the command line runs them."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from aws_lambda_powertools.utilities.parser.models import SnsModel, SqsModel

from lambdapress.cli import main
from lambdapress.emulator import ServeOptions, serve
from lambdapress.emulator.serving import hold_serve_lock
from lambdapress.model.application import Application
from lambdapress.model.resources import SnsTopic
from lambdapress.model.storage_backends import StageNames
from lambdapress.model.triggers import ScheduleTrigger, SnsTrigger
from lambdapress.storage.events import EventsEndpoint

from .conftest import EmulatorFactory, Repo, entry_for
from .event_support import HANDLERS


@pytest.fixture
def workspace(repo: Repo, runtime_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Repo:
    """A manifest with a scheduled job and a topic's subscriber, written to dist/."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))
    artifact = repo.artifact("events", {"handlers.py": HANDLERS})
    schedule = ScheduleTrigger(expression="rate(1 day)", input={"job": "sweep"})
    topic = SnsTrigger(topic="orders/sns-topic/order-events", filter_policy={"type": ["Placed"]})
    functions = [
        entry_for(repo.root, artifact, "jobs.sweep", "handlers.echo").model_copy(
            update={"triggers": (schedule,)}
        ),
        entry_for(repo.root, artifact, "jobs.notify", "handlers.echo").model_copy(
            update={"triggers": (topic,)}
        ),
    ]
    topic_resource = SnsTopic(service="orders", name="order-events")
    repo.write(Application(functions=tuple(functions), resources=(topic_resource,)))
    return repo


def test_event_prints_a_sample_of_the_kind_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["event", "sqs"]) == 0
    SqsModel.model_validate(json.loads(capsys.readouterr().out))


def test_event_of_a_function_follows_its_trigger(
    workspace: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["event", "sns", "--function", "jobs.notify", "--root", str(workspace.root)]
    assert main(args) == 0
    note = SnsModel.model_validate(json.loads(capsys.readouterr().out)).Records[0].Sns
    assert note.MessageAttributes is not None
    assert note.MessageAttributes["type"].Value == "Placed"
    assert note.TopicArn.endswith(":orders-order-events")


def test_event_with_a_body_carries_it_in_the_kinds_envelope(
    capsys: pytest.CaptureFixture[str],
) -> None:
    body = '{"type": "OrderPlaced", "order_id": "o-1"}'
    assert main(["event", "sqs", "--body", body]) == 0
    [record] = SqsModel.model_validate(json.loads(capsys.readouterr().out)).Records
    assert record.body == body
    assert record.md5OfBody == hashlib.md5(body.encode(), usedforsecurity=False).hexdigest()

    assert main(["event", "sns", "--body", "plain text"]) == 0
    assert SnsModel.model_validate(json.loads(capsys.readouterr().out)).Records[0].Sns.Message == (
        "plain text"
    )
    assert main(["event", "eventbridge", "--body", body]) == 0
    assert json.loads(capsys.readouterr().out)["detail"] == json.loads(body)


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["event", "eventbridge", "--body", "not json"], "body is not JSON"),
        (["event", "eventbridge", "--body", "[1]"], "detail is a JSON object"),
        (["event", "s3", "--body", "x"], "--body sets the payload of sqs, sns, eventbridge"),
    ],
)
def test_a_body_the_kind_cannot_carry_is_one_error_line(
    args: list[str], said: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(args) == 1
    err = capsys.readouterr().err
    assert said in err and "fix:" in err
    assert "Traceback" not in err


def test_event_of_a_kind_the_function_lacks_is_one_error_line(
    workspace: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["event", "sqs", "--function", "jobs.sweep", "--root", str(workspace.root)]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert "jobs.sweep has no sqs trigger (its triggers: schedule)" in err
    assert "Traceback" not in err


def test_trigger_fires_a_schedule_in_a_new_emulator(
    workspace: Repo, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["trigger", "jobs.sweep", "--root", str(workspace.root)]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"event": {"job": "sweep"}}
    assert "through lambdapress serve" not in captured.err


def test_trigger_goes_through_the_running_serve(
    workspace: Repo,
    make_emulator: EmulatorFactory,
    moto_endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from lambdapress.model.manifest import manifest_path, read_manifest

    manifest = read_manifest(manifest_path(workspace.root))
    events = EventsEndpoint(moto_endpoint, StageNames("repo", "local"))
    emulator = make_emulator(manifest, workspace.root, events=events)
    with hold_serve_lock(workspace.root) as lock, serve(emulator, ServeOptions()) as serving:
        assert serving.lambda_url is not None
        lock.describe(**{"Invoke API": serving.lambda_url})  # as `lambdapress serve` does
        code = main(["trigger", "jobs.notify", "--root", str(workspace.root)])
        stats = {s.function: s.started for s in emulator.stats()}
    captured = capsys.readouterr()
    assert code == 0
    assert f"fired through lambdapress serve ({serving.lambda_url})" in captured.err
    event = json.loads(captured.out)["event"]
    assert SnsModel.model_validate(event).Records[0].Sns.MessageAttributes is not None
    assert stats == {"jobs.notify": 1}  # serve's worker ran it
