"""A function's environment with the addresses of the queues, topics, buses and buckets it uses:
checked at package time against Lambda's 4 KB, at the longest names any stage makes."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit
from deploy.test_template_packaged_events import event_repo

from lambdapress.bundle._aws_names import LONGEST_PROJECT, LONGEST_STAGE, check_function_environment
from lambdapress.bundle._implementations import pinned_variables
from lambdapress.bundle.pipeline import package
from lambdapress.config.aws_rules import environment_size
from lambdapress.config.lambda_platform import ENVIRONMENT_MAX_BYTES
from lambdapress.config.settings import parse_service_settings
from lambdapress.config.workspace import Service
from lambdapress.deploy import _event_refs
from lambdapress.errors import BundleError
from lambdapress.model.event_names import address_budget
from lambdapress.model.resources import DynamoDBTable, S3Bucket, SnsTopic, SqsQueue

QUEUE = SqsQueue(service="workers", name="order-placed", fifo=True)
TOPIC = SnsTopic(service="orders", name="order-events")
BUCKET = S3Bucket(service="imports", name="uploads")
TABLE = DynamoDBTable(service="workers", name="seen", partition_key="id")
USED = (QUEUE, TOPIC, BUCKET, TABLE)


def _service(tmp_path: Path, environment: dict[str, str]) -> Service:
    folder = tmp_path / "services" / "workers"
    folder.mkdir(parents=True)
    pyproject = folder / "pyproject.toml"
    data = {"project": {"name": "workers"}, "tool": {"lambdapress": {"environment": environment}}}
    pyproject.write_text(tomlkit.dumps(data))
    settings = parse_service_settings(data, pyproject)
    return Service(
        name="workers", import_name="workers", path=folder, settings=settings, answers=None
    )


def _addresses() -> dict[str, str]:
    found: dict[str, str] = {}
    for resource in USED[:3]:
        found.update(address_budget("workers", resource, LONGEST_PROJECT, LONGEST_STAGE))
    return found


def _filling(spare: int) -> dict[str, str]:
    """`BIG`, sized so that it and the addresses leave `spare` of Lambda's 4 KB."""
    taken = environment_size({"BIG": "", **_addresses()})
    return {"BIG": "x" * (ENVIRONMENT_MAX_BYTES - taken - spare)}


def test_the_addresses_count_towards_the_4_kb(tmp_path: Path) -> None:
    exact = _filling(0)
    check_function_environment(
        _service(tmp_path / "fits", exact), tmp_path, "workers.consume", exact, USED
    )
    over = _filling(-1)
    service = _service(tmp_path / "over", over)
    with pytest.raises(BundleError, match="Lambda allows 4096 in total") as caught:
        check_function_environment(service, tmp_path, "workers.consume", over, USED)
    error = caught.value
    assert error.path == service.path / "pyproject.toml"
    assert "function workers.consume" in error.message
    assert "the addresses of the 3 queues, topics, buses and buckets it uses" in error.message
    assert "split it" in (error.hint or "")
    # Nothing used, nothing to add: the service's own check covers its variables.
    check_function_environment(service, tmp_path, "workers.consume", over, (TABLE,))


def test_a_variable_the_stack_sets_for_a_used_resource_is_refused(tmp_path: Path) -> None:
    environment = {"ORDER_PLACED_QUEUE_URL": "https://elsewhere"}
    service = _service(tmp_path, environment)
    with pytest.raises(BundleError) as caught:
        check_function_environment(service, tmp_path, "workers.consume", environment, USED)
    error = caught.value
    assert "sets ORDER_PLACED_QUEUE_URL in its environment" in error.message
    lines = (service.path / "pyproject.toml").read_text().splitlines()
    assert error.line is not None and lines[error.line - 1].startswith("ORDER_PLACED_QUEUE_URL")


def test_the_budget_names_the_variables_the_stack_sets() -> None:
    for resource in USED[:3]:
        deployed = _event_refs.address_environment("workers", resource, "acme", "dev")
        assert set(deployed) == set(address_budget("workers", resource, "acme", "dev"))


def test_package_refuses_a_function_whose_addresses_pass_the_4_kb(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The service's own variables fit (its check passes); the queue's addresses do not."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    queue = SqsQueue(service="workers", name="jobs")
    addresses = address_budget("workers", queue, LONGEST_PROJECT, LONGEST_STAGE)
    pins = environment_size(pinned_variables()) - 2
    spare = environment_size(addresses) - 2 - 1  # one byte short of the addresses
    assert spare > pins  # room for the pins: the service-level check passes
    big = _filling_with(spare)
    settings = f'[tool.lambdapress.environment]\nBIG = "{big}"\n\n[tool.lambdapress.queues.jobs]\n'
    handler = 'JOBS = triggers.Queue("jobs")\n\ndef handler(event, context):\n    return {}\n'
    root = event_repo(tmp_path / "repo", {"workers": settings}, {"workers/send": handler})
    with pytest.raises(BundleError) as caught:
        package(root, jobs=1)
    error = caught.value
    assert "function workers.send" in error.message
    assert "Lambda allows 4096 in total" in error.message
    assert error.path == root / "services/workers/pyproject.toml"


def _filling_with(spare: int) -> str:
    """BIG's value: with it, the variables leave `spare` of Lambda's 4 KB."""
    return "x" * (ENVIRONMENT_MAX_BYTES - environment_size({"BIG": ""}) - spare)
