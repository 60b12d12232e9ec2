"""JWT authorizers of the HTTP API: `[tool.lambdapress.deploy.authorizers.<name>]`, per stage.

```toml
[tool.lambdapress.deploy.authorizers.users]            # every stage's, unless it says otherwise
issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Dev123"
audiences = ["6k1dev0client0id"]
identity-source = "$request.header.Authorization"      # the default

[tool.lambdapress.deploy.stages.prod.authorizers.users]   # prod trusts its own user pool
issuer = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_Prod456"
audiences = ["7k1prod0client0id"]
```

Routes name an authorizer in code (`@triggers.authorized("users", scopes=[...])`), which is the
same on every stage; who issues the tokens differs between stages (a user pool per stage is
the rule), so the project-wide table is the default and a stage's table overrides its keys.
A stage may also declare an authorizer of its own. Either way each stage's authorizer ends up
with an issuer (an `https://` URL: API Gateway reads `<issuer>/.well-known/openid-configuration`
for the keys) and at least one audience (the token's `aud`, or its `client_id`).

Locally (`serve`), the same names are verified against the workspace's own key pair
(`emulator.local_tokens`), not these issuers: `lambdapress token` signs for them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

DEFAULT_IDENTITY_SOURCE = "$request.header.Authorization"
_ISSUER = re.compile(r"^https://[^\s/]+(/[^\s]*)?$")
_IDENTITY = re.compile(r"^\$request\.(header|querystring)\.[^\s]+$")
AUTHORIZERS_FIX = (
    "write [tool.lambdapress.deploy.authorizers.NAME] (or under a stage, "
    "[tool.lambdapress.deploy.stages.STAGE.authorizers.NAME]) with "
    'issuer = "https://..." and audiences = ["client-id"]'
)


class JwtAuthorizerSettings(BaseModel):
    """One JWT authorizer's keys as written: project-wide, or a stage's override of them."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, populate_by_name=True)

    issuer: str | None = Field(default=None, description="the tokens' `iss`, an https:// URL")
    audiences: list[str] | None = Field(
        default=None, min_length=1, description="accepted `aud` (or `client_id`) values"
    )
    identity_source: str | None = Field(
        default=None,
        alias="identity-source",
        description=f"where the token is (default {DEFAULT_IDENTITY_SOURCE})",
    )

    @field_validator("issuer")
    @classmethod
    def _https_issuer(cls, value: str | None) -> str | None:
        if value is not None and not _ISSUER.match(value):
            raise ValueError(
                f"{value!r} is not an issuer API Gateway accepts: an https:// URL (it reads "
                "<issuer>/.well-known/openid-configuration)"
            )
        return value

    @field_validator("audiences")
    @classmethod
    def _audiences(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not all(audience.strip() for audience in value):
            raise ValueError("an audience is blank: list the client ids the tokens name")
        return value

    @field_validator("identity_source")
    @classmethod
    def _identity(cls, value: str | None) -> str | None:
        if value is not None and not _IDENTITY.match(value):
            raise ValueError(
                f"{value!r} is not where a JWT can be: $request.header.NAME or "
                "$request.querystring.NAME"
            )
        return value


@dataclass(frozen=True)
class JwtAuthorizer:
    """One JWT authorizer as a stage deploys it."""

    name: str
    issuer: str
    audiences: tuple[str, ...]
    identity_source: str = DEFAULT_IDENTITY_SOURCE


def resolve_authorizers(
    project: dict[str, JwtAuthorizerSettings],
    stage: dict[str, JwtAuthorizerSettings],
    stage_name: str | None,
) -> dict[str, JwtAuthorizer]:
    """The stage's JWT authorizers: the project's, each key a stage's table sets replaced.

    `stage_name` None stands for every stage without a table of its own. A ValueError names
    the authorizer, the key it lacks and where to set it, when no table gives it an issuer or
    an audience.
    """
    resolved: dict[str, JwtAuthorizer] = {}
    for name in sorted({*project, *stage}):
        base = project.get(name, JwtAuthorizerSettings())
        over = stage.get(name, JwtAuthorizerSettings())
        issuer = over.issuer or base.issuer
        audiences = over.audiences or base.audiences
        identity = over.identity_source or base.identity_source or DEFAULT_IDENTITY_SOURCE
        given = (("issuer", issuer), ("audiences", audiences))
        missing = " and no ".join(key for key, value in given if not value)
        if issuer is None or audiences is None:
            table = f"[tool.lambdapress.deploy.authorizers.{name}]"
            if stage_name is None:
                raise ValueError(
                    f"the JWT authorizer {name!r} has no {missing} for the stages without a "
                    f"table of their own: set it in {table}"
                )
            raise ValueError(
                f"the JWT authorizer {name!r} has no {missing} on stage {stage_name!r}: set it "
                f"in {table} or [tool.lambdapress.deploy.stages.{stage_name}.authorizers.{name}]"
            )
        resolved[name] = JwtAuthorizer(name, issuer, tuple(audiences), identity)
    return resolved


def check_authorizer_names(names: list[str]) -> None:
    """Authorizer names are the routes' words for them: letters, digits, '-' and '_'."""
    for name in names:
        if not re.match(r"^[A-Za-z][A-Za-z0-9_-]{0,63}$", name):
            raise ValueError(
                f"{name!r} is not an authorizer name: letters, digits, '-' and '_', starting "
                "with a letter, at most 64 characters"
            )


def _named(value: dict[str, JwtAuthorizerSettings]) -> dict[str, JwtAuthorizerSettings]:
    check_authorizer_names(list(value))
    return value


JwtAuthorizerTable = Annotated[dict[str, JwtAuthorizerSettings], AfterValidator(_named)]
"""`[...authorizers.<name>]` tables, project-wide or a stage's: each name checked."""
