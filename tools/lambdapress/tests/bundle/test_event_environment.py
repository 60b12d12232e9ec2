"""A function's environment with the addresses of the queues, topics, buses and buckets it uses:
checked at package time against Lambda's 4 KB, at the longest names any stage makes."""

from __future__ import annotations

from pathlib import Path

import pytest
import tomlkit

from lambdapress.bundle._aws_names import LONGEST_PROJECT, LONGEST_STAGE, check_function_environment
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
