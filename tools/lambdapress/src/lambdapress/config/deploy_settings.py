"""The deploy keys of a service's `[tool.lambdapress]`: its IAM statements and per-function options.

```toml
[[tool.lambdapress.iam.statements]]        # added to each of the service's functions' roles
actions = ["s3:GetObject"]
resources = ["arn:${AWS::Partition}:s3:::acme-uploads/*"]

[tool.lambdapress.functions.get_order]     # one handler module of the service
reserved_concurrency = 20                  # at most 20 at once (0 stops it)
warm_every_minutes = 5                     # an EventBridge rule sends the warm-up event
provisioned_concurrency = 2                # the alias `live` keeps 2 environments initialised
snapstart = false                          # this function without the service's SnapStart
access = "read"                            # storage actions: "read" or "write"; default: "read"
                                           #   when every trigger is a GET or HEAD route
vpc = false                                # not in the stage's network (default: PostgreSQL
                                           #   functions are, when the stage has one)
rollout = "all-at-once"                    # instead of the stage's strategy (rollout_settings)
```

They live in the service's pyproject, beside the runtime and memory they go with, and are
validated when the workspace is read, like every other key of the table: a typo fails on the
developer's machine with the file, key and fix, not in a CloudFormation rollback. A function is
named by its handler module (`get_order` for `orders.get_order`); whether that module exists is
known only after the bundler found the handlers, so the template builder checks it.

Least privilege is the default: an `Allow` with a wildcard action (`*`, `s3:*`, `s3:Get*`) or
the resource `*` is refused unless the statement says `allow_wildcard = true`, so a broad
grant is always a visible decision in review rather than a shortcut. `Deny` statements may use
wildcards freely: they only take rights away.
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from lambdapress.config.aws_rules import HANDLER_MODULE
from lambdapress.config.rollout_settings import RolloutStrategy

# `service:Action` as IAM writes it; `*` may stand for any part of the action name.
_ACTION = re.compile(r"^(\*|[a-z0-9-]+:[A-Za-z0-9*?]+)$")
# CloudFormation substitutions allowed in a resource (`${AWS::Region}`, `${AWS::AccountId}`...).
_PSEUDO = re.compile(r"\$\{([^}]*)\}")
_PSEUDO_PARAMETERS = frozenset(
    {"AWS::AccountId", "AWS::Partition", "AWS::Region", "AWS::URLSuffix", "AWS::StackName"}
)
MAX_WARM_MINUTES = 1440  # once a day; a longer gap keeps nothing warm


def _is_wildcard_action(action: str) -> bool:
    return "*" in action or "?" in action


def _is_wildcard_resource(resource: str) -> bool:
    """Only the bare `*`: a `*` inside an ARN (`bucket/*`) is how IAM scopes to a prefix."""
    return resource == "*"


def substituted(arn: str) -> object:
    """`arn` as a template writes it: through `Fn::Sub` when it names `${AWS::Region}`..."""
    return {"Fn::Sub": arn} if _PSEUDO.search(arn) else arn


class IamStatement(BaseModel):
    """One statement the service adds to its functions' roles (IAM's Effect, Action, Resource)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    effect: Literal["Allow", "Deny"] = "Allow"
    actions: list[str] = Field(min_length=1)
    resources: list[str] = Field(min_length=1)
    allow_wildcard: bool = False
    """Must be true for an Allow with a wildcard action or a `*` resource (see the module)."""

    @field_validator("actions")
    @classmethod
    def _check_actions(cls, value: list[str]) -> list[str]:
        for action in value:
            if not _ACTION.match(action):
                raise ValueError(f"{action!r} is not an IAM action such as 's3:GetObject'")
        return value

    @field_validator("resources")
    @classmethod
    def _check_resources(cls, value: list[str]) -> list[str]:
        for resource in value:
            if resource != "*" and not resource.startswith("arn:"):
                raise ValueError(f"{resource!r} is not an ARN (or '*')")
            for name in _PSEUDO.findall(resource):
                if name not in _PSEUDO_PARAMETERS:
                    raise ValueError(
                        f"{resource!r} substitutes ${{{name}}}; only "
                        f"{', '.join(sorted(_PSEUDO_PARAMETERS))} are known"
                    )
        return value

    @model_validator(mode="after")
    def _wildcards_are_explicit(self) -> IamStatement:
        if self.effect == "Deny" or self.allow_wildcard:
            return self
        broad = [a for a in self.actions if _is_wildcard_action(a)]
        broad += [r for r in self.resources if _is_wildcard_resource(r)]
        if broad:
            raise ValueError(
                f"{', '.join(broad)} grants more than named actions on named resources; "
                "name them, or set allow_wildcard = true on this statement"
            )
        return self

    def document(self) -> dict[str, object]:
        """The statement in IAM's policy language; resources with `${...}` go through Fn::Sub."""
        resources = [substituted(r) for r in self.resources]
        return {"Effect": self.effect, "Action": list(self.actions), "Resource": resources}


class IamSettings(BaseModel):
    """`[tool.lambdapress.iam]`: what the service's functions may do besides writing logs."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    statements: list[IamStatement] = Field(default_factory=list)


class FunctionDeploySettings(BaseModel):
    """`[tool.lambdapress.functions.<handler module>]`: optional capacity settings of one function.

    None of them is on by default: each costs money (provisioned concurrency, warm-up calls) or
    caps throughput (reserved concurrency), so each is a decision per function.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    reserved_concurrency: int | None = Field(default=None, ge=0, le=100_000)
    warm_every_minutes: int | None = Field(default=None, ge=1, le=MAX_WARM_MINUTES)
    provisioned_concurrency: int | None = Field(default=None, ge=1, le=100_000)
    rollout: RolloutStrategy | None = None
    """This function's strategy instead of its stage's (a cheap internal one all at once)."""
    snapstart: bool | None = None
    """SnapStart for this function (true/false); unset, the service's `snapstart` applies."""
    access: Literal["read", "write"] | None = None
    """What the function does with its service's storage; None: derived from its triggers
    (`model.permissions.access_of`). `write` for a GET handler that records something (a
    view counter); `read` for a worker that only reads."""
    vpc: bool | None = None
    """In the stage's network (`[...stages.<stage>.network]`) or not; None: PostgreSQL
    functions are."""

    @model_validator(mode="after")
    def _provisioned_fits_reserved(self) -> FunctionDeploySettings:
        reserved, provisioned = self.reserved_concurrency, self.provisioned_concurrency
        if reserved is not None and provisioned is not None and provisioned > reserved:
            raise ValueError(
                f"provisioned_concurrency ({provisioned}) exceeds reserved_concurrency "
                f"({reserved}); Lambda refuses it"
            )
        return self


def check_function_keys(value: dict[str, FunctionDeploySettings]) -> None:
    """Refuse keys that cannot be a handler module's name (a dotted `orders.get_order`, say)."""
    for name in value:
        if HANDLER_MODULE.fullmatch(name) is None:
            raise ValueError(
                f"{name!r} is not a handler module name; use the module's name alone "
                "(get_order for orders/handlers/get_order.py)"
            )


FIXES = {
    "iam": 'write [[tool.lambdapress.iam.statements]] with actions = ["s3:GetObject"] and '
    'resources = ["arn:aws:s3:::bucket/*"] (effect = "Deny" optional; allow_wildcard = true '
    "for a deliberate wildcard)",
    "functions": "write [tool.lambdapress.functions.HANDLER] with reserved_concurrency, "
    f"warm_every_minutes (1 to {MAX_WARM_MINUTES}) or provisioned_concurrency, whole numbers, "
    'snapstart = true or false, access = "read" or "write", vpc = true or false, '
    'or rollout = "all-at-once", "canary" or "linear"',
}
