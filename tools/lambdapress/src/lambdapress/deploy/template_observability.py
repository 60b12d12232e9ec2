"""What a stage records about its functions: X-Ray tracing and one CloudWatch dashboard.

Both follow the stage's `observability` settings (`config.observability_settings`).

Tracing is Lambda's active tracing (`TracingConfig: {Mode: Active}`): Lambda samples the
requests and sends their segments; the handler's Powertools Tracer adds subsegments. Each
function's role then needs `xray:PutTraceSegments` and `xray:PutTelemetryRecords`, on the
resource `*`: X-Ray has no resource-level permissions for them, so IAM accepts nothing
narrower (the managed policy `AWSXRayDaemonWriteAccess` says the same). The HTTP API itself is
not traced: API Gateway's HTTP APIs have no X-Ray support (only REST APIs do), so a trace
starts at the function.

The dashboard has a row per function, in name order: invocations and errors, p99 duration,
throttles and concurrent executions, and for a function fed by a queue or a table's stream,
the age of what waits for it (the queue's `ApproximateAgeOfOldestMessage`, Lambda's
`IteratorAge`). Metrics are by `FunctionName`, every version and alias together: the row
shows the function as its users see it, across a rollout. Its body is built from names only,
so the same model gives the same bytes, and an unchanged stack shows no change.
"""

from __future__ import annotations

import json
from typing import Any

from lambdapress.deploy._event_refs import sub_text
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template_ids import Resources, physical_function_name
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.event_names import physical_name
from lambdapress.model.triggers import DynamoDBStreamTrigger, SqsTrigger

DASHBOARD = "Dashboard"
"""The dashboard's logical id."""
XRAY_ACTIONS = ("xray:PutTraceSegments", "xray:PutTelemetryRecords")
# CloudWatch's limit of widgets per dashboard; the grid is 24 units wide.
MAX_WIDGETS = 500
_WIDTH, _HEIGHT, _GRID = 6, 6, 24
_PERIOD = 60  # seconds: Lambda's metrics are per minute
_REGION = "<<region>>"  # in the widgets until the body becomes an `Fn::Sub`


def traced(config: DeployConfig, stage: str) -> bool:
    """Whether the functions of `stage` have active X-Ray tracing."""
    settings = config.stage_settings(stage)
    return settings.observability.traced(settings.is_production)


def tracing_statement() -> dict[str, Any]:
    """What a traced function's role needs to send its segments (Resource `*`: see above)."""
    return {"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}


def dashboard_name(config: DeployConfig, stage: str) -> str:
    """The dashboard's name: the stack's (`acme-prod`), unique per account like the stack."""
    return config.stack_name(stage)


def add_dashboard(
    resources: Resources, application: Application, config: DeployConfig, stage: str
) -> None:
    """The stage's dashboard, unless the stage turned it off (or has no functions)."""
    if not config.stage_settings(stage).observability.dashboard or not application.functions:
        return
    widgets = dashboard_widgets(application, config, stage)
    if len(widgets) > MAX_WIDGETS:
        raise ConfigError(
            f"the stage's dashboard would have {len(widgets)} widgets; CloudWatch allows "
            f"{MAX_WIDGETS} per dashboard",
            hint=f"set dashboard = false in [tool.lambdapress.deploy.stages.{stage}."
            "observability] and build dashboards per service yourself",
        )
    body = json.dumps({"widgets": widgets}, sort_keys=True, separators=(",", ":"))
    resources.add(
        DASHBOARD,
        {
            "Type": "AWS::CloudWatch::Dashboard",
            "Properties": {
                "DashboardName": dashboard_name(config, stage),
                # The region is the stack's, known only when it is deployed.
                "DashboardBody": {"Fn::Sub": sub_text(body).replace(_REGION, "${AWS::Region}")},
            },
        },
        f"stage {stage}",
    )


def dashboard_widgets(
    application: Application, config: DeployConfig, stage: str
) -> list[dict[str, Any]]:
    """The widgets, a row per function; the region is written `<<region>>` (a placeholder)."""
    widgets: list[dict[str, Any]] = []
    for row, function in enumerate(sorted(application.functions, key=lambda f: f.name)):
        name = physical_function_name(config.project, stage, function.name)
        graphs = _function_graphs(name) + _source_graphs(
            application, function, name, config.project, stage
        )
        for column, (title, metrics) in enumerate(graphs):
            widgets.append(_widget(f"{function.name}: {title}", metrics, row, column))
    return widgets


Graph = tuple[str, list[list[Any]]]


def _lambda_metric(name: str, metric: str, stat: str) -> list[Any]:
    return ["AWS/Lambda", metric, "FunctionName", name, {"stat": stat}]


def _function_graphs(name: str) -> list[Graph]:
    """What every function shows: load and failures, latency, limits."""
    return [
        (
            "invocations and errors",
            [_lambda_metric(name, "Invocations", "Sum"), _lambda_metric(name, "Errors", "Sum")],
        ),
        ("p99 duration (ms)", [_lambda_metric(name, "Duration", "p99")]),
        (
            "throttles and concurrency",
            [
                _lambda_metric(name, "Throttles", "Sum"),
                _lambda_metric(name, "ConcurrentExecutions", "Maximum"),
            ],
        ),
    ]


def _source_graphs(
    application: Application, function: Function, name: str, project: str, stage: str
) -> list[Graph]:
    """How long events wait for the function: its queues' oldest message, its streams' age."""
    metrics: list[list[Any]] = []
    for trigger in function.triggers_of(SqsTrigger):
        queue = physical_name(project, stage, application.resource(trigger.queue))
        metrics.append(
            ["AWS/SQS", "ApproximateAgeOfOldestMessage", "QueueName", queue, {"stat": "Maximum"}]
        )
    if function.triggers_of(DynamoDBStreamTrigger):
        metrics.append(_lambda_metric(name, "IteratorAge", "Maximum"))
    return [("age of waiting events (s for queues, ms for streams)", metrics)] if metrics else []


def _widget(title: str, metrics: list[list[Any]], row: int, column: int) -> dict[str, Any]:
    return {
        "type": "metric",
        "x": column * _WIDTH,
        "y": row * _HEIGHT,
        "width": _WIDTH,
        "height": _HEIGHT,
        "properties": {
            "title": title,
            "region": _REGION,
            "view": "timeSeries",
            "period": _PERIOD,
            "metrics": metrics,
        },
    }
