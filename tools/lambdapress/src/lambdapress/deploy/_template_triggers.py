"""The stack as trigger kinds render into it, and every kind's triggers rendered.

The application's queues, topics, buses and buckets are rendered here too, before the kinds
(`template_events.render_event_resources`): a bucket's notifications name the functions they
invoke, so they need every function in the stack first.

Each registered trigger kind (`model.trigger_kinds`) adds its own resources through a
`TriggerStack`, the `StackBuilder` the model defines: the stack's names and settings, the
resources already made (so an id taken twice is an error naming both owners), what invokes
each function, and the stack's outputs. Kinds are rendered after every function exists, in the
kinds' order; the template's bytes do not depend on that order (its keys are sorted).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template_events import render_event_resources
from lambdapress.deploy.template_ids import Resources, function_id
from lambdapress.model.application import Application
from lambdapress.model.event_names import has_event_resources
from lambdapress.model.trigger_kinds import render_triggers


class TriggerStack:
    """The `StackBuilder` of one stage's template (`model.trigger_kinds`)."""

    def __init__(
        self,
        resources: Resources,
        config: DeployConfig,
        stage: str,
        targets: Mapping[str, dict[str, Any]],
    ) -> None:
        self._resources = resources
        self._config = config
        self._stage = stage
        self._targets = dict(targets)
        self.outputs: dict[str, dict[str, Any]] = {}

    @property
    def name(self) -> str:
        """The stack's name (`acme-dev`)."""
        return self._config.stack_name(self._stage)

    @property
    def project(self) -> str:
        """The project (`acme`)."""
        return self._config.project

    @property
    def stage(self) -> str:
        """The stage (`dev`)."""
        return self._stage

    @property
    def log_retention_days(self) -> int:
        """`log-retention-days` of `[tool.lambdapress.deploy]`."""
        return self._config.log_retention_days

    def setting(self, key: str) -> object:
        """A key of `[tool.lambdapress.deploy]` as validated (`cors`: `CorsSettings`), or None."""
        field = key.replace("-", "_")
        return getattr(self._config, field) if field in DeployConfig.model_fields else None

    def function_id(self, function: str, suffix: str) -> str:
        """The logical id of a resource of `function`: `OrdersGetOrder` + `suffix`."""
        return function_id(function, suffix)

    def invoke_target(self, function: str) -> dict[str, Any]:
        """What invokes `function`: its `live` alias (never the bare function)."""
        return self._targets[function]

    def add(self, logical_id: str, resource: dict[str, Any], owner: str) -> str:
        """Add a resource (see `Resources.add`)."""
        return self._resources.add(logical_id, resource, owner)

    def add_output(self, name: str, output: dict[str, Any]) -> None:
        """Add an output; two kinds naming the same output is a bug in one of them."""
        if name in self.outputs:
            raise ValueError(f"the stack's output {name!r} is added twice")
        self.outputs[name] = output


def add_triggers(
    resources: Resources,
    application: Application,
    config: DeployConfig,
    stage: str,
    targets: Mapping[str, dict[str, Any]],
) -> dict[str, dict[str, Any]]:
    """Render the event resources and every trigger into `resources`; returns the outputs.

    `targets` says what invokes each function (`template_functions.add_function`'s answer).
    """
    stack = TriggerStack(resources, config, stage, targets)
    if has_event_resources(application):
        render_event_resources(stack, application)
    render_triggers(stack, application)
    return stack.outputs
