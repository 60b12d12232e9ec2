"""Each function's CloudWatch alarms: errors, throttles, p99 duration, and its sources' ages.

Errors, throttles and duration are measured on the `live` alias (the dimensions `FunctionName`
and `Resource` = `<function>:live`, as Lambda publishes per-alias metrics): that is the traffic
users get, and during a gradual rollout it is what CodeDeploy watches (`_template_rollouts`
names the errors and p99 alarms in the deployment group). A stream source's iterator age is
published per function; a queue's age of the oldest message by SQS per queue.

Every alarm compares one minute's statistic with the stage's threshold (`[...stages.<stage>.
alarms]`) over one period, so a bad canary stops within a minute or two; missing data (no
traffic) is not breaching, or a quiet function would roll back every release. With `notify`,
an alarm going off and coming back both publish to that SNS topic.

The thresholds are the stage's; the p99 duration's default is 80% of each function's timeout
(`rollout_settings.DEFAULT_DURATION_FRACTION`): a function that slows to its timeout is about
to fail, whatever its usual speed.
"""

from __future__ import annotations

from typing import Any

from lambdapress.config.rollout_settings import AlarmSettings
from lambdapress.deploy import _event_refs as refs
from lambdapress.deploy import rollouts
from lambdapress.deploy.template_functions import LIVE_ALIAS, StackFunction
from lambdapress.deploy.template_ids import Resources, function_id
from lambdapress.model.application import Application
from lambdapress.model.triggers import SqsTrigger

PERIOD_SECONDS = 60
_IDS = {
    rollouts.ERRORS: "ErrorsAlarm",
    rollouts.DURATION: "DurationAlarm",
    rollouts.THROTTLES: "ThrottlesAlarm",
    rollouts.ITERATOR_AGE: "IteratorAgeAlarm",
}


def alarm_id(function: str, kind: str) -> str:
    """`OrdersGetOrderErrorsAlarm`: the logical id of one of a function's alarms."""
    return function_id(function, _IDS[kind])


def add_alarms(
    resources: Resources,
    application: Application,
    function: StackFunction,
    settings: AlarmSettings,
) -> dict[str, str]:
    """Add the function's alarms; their logical ids by kind (queue ages under `queue-age`)."""
    entry = function.entry
    name = function.function_name
    alias = [
        {"Name": "FunctionName", "Value": name},
        {"Name": "Resource", "Value": f"{name}:{LIVE_ALIAS}"},
    ]
    of_function = [{"Name": "FunctionName", "Value": name}]
    threshold_ms = settings.duration_threshold_ms(entry.timeout)
    specs: dict[str, dict[str, Any]] = {
        rollouts.ERRORS: _metric("Errors", alias, "Sum", settings.errors, ">="),
        rollouts.DURATION: _metric("Duration", alias, "p99", threshold_ms, ">"),
        rollouts.THROTTLES: _metric("Throttles", alias, "Sum", settings.throttles, ">="),
    }
    kinds = rollouts.alarm_kinds(entry)
    if rollouts.ITERATOR_AGE in kinds:
        age = _metric("IteratorAge", of_function, "Maximum", settings.iterator_age_ms, ">")
        specs[rollouts.ITERATOR_AGE] = age
    made: dict[str, str] = {}
    for kind, spec in specs.items():
        made[kind] = _add(resources, alarm_id(entry.name, kind), function, kind, spec, settings)
    if rollouts.QUEUE_AGE in kinds:
        for queue_name in dict.fromkeys(t.queue for t in entry.triggers_of(SqsTrigger)):
            queue_id = refs.resource_id(application.resource(queue_name))
            queue = [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue_id, "QueueName"]}}]
            spec = _metric("ApproximateAgeOfOldestMessage", queue, "Maximum", 0, ">")
            spec.update(Namespace="AWS/SQS", Threshold=settings.queue_age_seconds)
            logical_id = function_id(entry.name, f"{queue_id}AgeAlarm")
            kind = f"{rollouts.QUEUE_AGE}-{queue_name.rsplit('/', 1)[-1]}"
            made[kind] = _add(resources, logical_id, function, kind, spec, settings)
    return made


def _metric(
    metric: str, dimensions: list[dict[str, Any]], statistic: str, threshold: int, above: str
) -> dict[str, Any]:
    """An alarm's metric, statistic and threshold (`>=` or `>`), over one minute."""
    spec: dict[str, Any] = {
        "Namespace": "AWS/Lambda",
        "MetricName": metric,
        "Dimensions": dimensions,
        "Period": PERIOD_SECONDS,
        "EvaluationPeriods": 1,
        "Threshold": threshold,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold"
        if above == ">="
        else "GreaterThanThreshold",
        "TreatMissingData": "notBreaching",
    }
    if statistic.startswith("p"):
        spec["ExtendedStatistic"] = statistic
    else:
        spec["Statistic"] = statistic
    return spec


def _add(
    resources: Resources,
    logical_id: str,
    function: StackFunction,
    kind: str,
    spec: dict[str, Any],
    settings: AlarmSettings,
) -> str:
    name = f"{function.function_name}-{kind}"
    properties = {
        "AlarmName": name,
        "AlarmDescription": f"lambdapress: {kind} of function {function.entry.name} "
        f"(stage {function.stage})",
        **spec,
    }
    if settings.notify is not None:
        properties["AlarmActions"] = [settings.notify]
        properties["OKActions"] = [settings.notify]
    return resources.add(
        logical_id,
        {"Type": "AWS::CloudWatch::Alarm", "Properties": properties},
        f"function {function.entry.name}",
    )
