"""A stage's observability in its template: X-Ray tracing and the dashboard, from its settings."""

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from formats.rich import translate

from lambdapress.deploy.config import load_deploy_config
from lambdapress.deploy.template import template_body
from lambdapress.errors import ConfigError
from lambdapress.formats._sam import render_sam

from .event_stacks import event_application
from .stacks import config, entry, lint_findings, of_type, render, service

FUNCTIONS = [entry("shop.ping", "GET /ping"), entry("shop.report")]
SERVICES = [service("shop")]
XRAY = {
    "Effect": "Allow",
    "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    "Resource": "*",
}


def _observability(**settings: Any) -> dict[str, Any]:
    return {"stages": {"prod": {"observability": settings}, "dev": {"observability": settings}}}


def _statements(document: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = document["Resources"][role]["Properties"]["Policies"]
    return [s for p in policies for s in p["PolicyDocument"]["Statement"]]


def _traced(document: dict[str, Any]) -> dict[str, bool]:
    """Per function: active tracing on the function, and the X-Ray statement in its role."""
    found = {}
    for logical_id, function in of_type(document, "AWS::Lambda::Function").items():
        mode = function["Properties"].get("TracingConfig", {}).get("Mode")
        role = function["Properties"]["Role"]["Fn::GetAtt"][0]
        assert (mode == "Active") is (XRAY in _statements(document, role)), logical_id
        # The switch the service template's tracing.py reads before importing the Tracer.
        variables = function["Properties"].get("Environment", {}).get("Variables", {})
        assert (mode == "Active") is (variables.get("LAMBDAPRESS_TRACING") == "xray"), logical_id
        found[logical_id] = mode == "Active"
    return found


def test_production_stages_are_traced_and_others_not_unless_they_say() -> None:
    both = {"ShopPingFunction": True, "ShopReportFunction": True}
    neither = dict.fromkeys(both, False)
    assert _traced(render(FUNCTIONS, SERVICES, stage="prod")) == both
    assert _traced(render(FUNCTIONS, SERVICES, stage="dev")) == neither
    on = config(**_observability(tracing="xray"))
    assert _traced(render(FUNCTIONS, SERVICES, on, stage="dev")) == both
    off = config(**_observability(tracing="off"))
    assert _traced(render(FUNCTIONS, SERVICES, off, stage="prod")) == neither
    named = config(stages={"main": {"production": True}})
    assert _traced(render(FUNCTIONS, SERVICES, named, stage="main")) == both


def _dashboard(document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The dashboard's name and its body, with the region the stack would put in."""
    (dashboard,) = of_type(document, "AWS::CloudWatch::Dashboard").values()
    properties = dashboard["Properties"]
    body = properties["DashboardBody"]["Fn::Sub"].replace("${AWS::Region}", "eu-west-1")
    return properties["DashboardName"], json.loads(body)


def _rows(body: dict[str, Any]) -> dict[int, list[str]]:
    """The widgets' titles, by row (y), each row in column order."""
    rows: dict[int, list[tuple[int, str]]] = {}
    for widget in body["widgets"]:
        assert widget["properties"]["region"] == "eu-west-1"
        assert widget["x"] + widget["width"] <= 24
        rows.setdefault(widget["y"], []).append((widget["x"], widget["properties"]["title"]))
    return {y: [title for _, title in sorted(row)] for y, row in sorted(rows.items())}


def test_the_dashboard_has_a_row_per_function_with_its_metrics() -> None:
    name, body = _dashboard(render(FUNCTIONS, SERVICES, stage="dev"))
    assert name == "acme-dev"
    assert _rows(body) == {
        0: [
            "shop.ping: invocations and errors",
            "shop.ping: p99 duration (ms)",
            "shop.ping: throttles and concurrency",
        ],
        6: [
            "shop.report: invocations and errors",
            "shop.report: p99 duration (ms)",
            "shop.report: throttles and concurrency",
        ],
    }
    metrics = [m for w in body["widgets"][:3] for m in w["properties"]["metrics"]]
    assert metrics == [
        ["AWS/Lambda", "Invocations", "FunctionName", "acme-dev-shop-ping", {"stat": "Sum"}],
        ["AWS/Lambda", "Errors", "FunctionName", "acme-dev-shop-ping", {"stat": "Sum"}],
        ["AWS/Lambda", "Duration", "FunctionName", "acme-dev-shop-ping", {"stat": "p99"}],
        ["AWS/Lambda", "Throttles", "FunctionName", "acme-dev-shop-ping", {"stat": "Sum"}],
        [
            "AWS/Lambda",
            "ConcurrentExecutions",
            "FunctionName",
            "acme-dev-shop-ping",
            {"stat": "Maximum"},
        ],
    ]


def test_queue_and_stream_consumers_show_the_age_of_what_waits() -> None:
    document = json.loads(template_body(event_application(), config(), "dev", "acme-artifacts"))
    _, body = _dashboard(document)
    ages = {
        w["properties"]["title"].split(":")[0]: w["properties"]["metrics"]
        for w in body["widgets"]
        if "age of waiting events" in w["properties"]["title"]
    }
    assert ages == {
        "inventory.changes": [
            [
                "AWS/Lambda",
                "IteratorAge",
                "FunctionName",
                "acme-dev-inventory-changes",
                {"stat": "Maximum"},
            ]
        ],
        "workers.consume": [
            [
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "QueueName",
                "acme-dev-workers-order-placed",
                {"stat": "Maximum"},
            ]
        ],
        "workers.ledger": [
            [
                "AWS/SQS",
                "ApproximateAgeOfOldestMessage",
                "QueueName",
                "acme-dev-workers-ledger.fifo",
                {"stat": "Maximum"},
            ]
        ],
    }
    # The queue names are the queues' own in the same stack.
    queues = {q["Properties"]["QueueName"] for q in of_type(document, "AWS::SQS::Queue").values()}
    assert {"acme-dev-workers-order-placed", "acme-dev-workers-ledger.fifo"} <= queues


def test_the_dashboard_is_deterministic_and_can_be_turned_off() -> None:
    first = template_body(event_application(), config(), "dev", "acme-artifacts")
    assert first == template_body(event_application(), config(), "dev", "acme-artifacts")
    off = config(**_observability(dashboard=False))
    document = render(FUNCTIONS, SERVICES, off, stage="prod")
    assert of_type(document, "AWS::CloudWatch::Dashboard") == {}
    # Turning it off touches nothing else.
    kept = render(FUNCTIONS, SERVICES, stage="prod")["Resources"]
    del kept["Dashboard"]
    assert document["Resources"] == kept


def test_too_many_functions_for_one_dashboard_is_an_error_with_the_fix() -> None:
    functions = [entry(f"shop.f{i}") for i in range(167)]  # 3 widgets each: 501
    with pytest.raises(ConfigError) as caught:
        render(functions, SERVICES, config(), stage="dev")
    assert "501 widgets" in str(caught.value)
    assert "dashboard = false" in str(caught.value.hint)


def test_traced_stacks_with_dashboards_lint_clean_in_both_formats() -> None:
    application = event_application()
    body = template_body(application, config(), "prod", "acme-artifacts")
    assert "TracingConfig" in body and "AWS::CloudWatch::Dashboard" in body
    assert lint_findings(body) == []
    sam = render_sam(application, config(), "prod", "acme-artifacts")
    assert lint_findings(sam) == []
    document = yaml.safe_load(sam)
    functions = of_type(document, "AWS::Serverless::Function")
    assert functions and {f["Properties"]["Tracing"] for f in functions.values()} == {"Active"}
    assert not any("TracingConfig" in f["Properties"] for f in functions.values())
    # SAM's translator turns it back into the same TracingConfig, asking for no managed policy
    # (each role already holds its X-Ray statement).
    translated = of_type(translate(sam), "AWS::Lambda::Function")
    assert len(translated) == len(functions)
    assert all(f["Properties"]["TracingConfig"] == {"Mode": "Active"} for f in translated.values())


@pytest.mark.parametrize(
    ("table", "words"),
    [
        ('tracing = "x-ray"', ["tracing", "xray", "off", "toml:5"]),
        ("dashboard = 1", ["dashboard", "true or false"]),
        ("sampling = 5", ["sampling"]),
    ],
)
def test_mistakes_in_the_table_name_the_file_the_key_and_the_fix(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.deploy]\nproject = "acme"\n\n'
        f"[tool.lambdapress.deploy.stages.prod.observability]\n{table}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(tmp_path)
    message = f"{caught.value} {caught.value.hint}"
    assert "pyproject.toml" in message and "observability" in message
    for word in words:
        assert word in message
