"""Which authorizer guards which route: the Lambda authorizers of an application, and the rules.

A route names its authorizer (`HttpRoute.authorizer`); the name is a Lambda authorizer when a
function of the application is marked with it (`HttpAuthorizer`, `@triggers.authorizer`), and
a JWT authorizer otherwise, whose issuer and audiences are the stage's configuration
(`config.authorizer_settings`), or locally the workspace's own keys. Deploy and the emulator
both ask here, so a name means the same thing in the stack and under `serve`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.triggers import HttpAuthorizer, HttpRoute


@dataclass(frozen=True)
class LambdaAuthorizer:
    """A function of the application that is a Lambda authorizer, and how."""

    function: Function
    authorizer: HttpAuthorizer

    @property
    def name(self) -> str:
        """The authorizer's name, as routes say it."""
        return self.authorizer.name


def lambda_authorizers(application: Application) -> dict[str, LambdaAuthorizer]:
    """The application's Lambda authorizers by name (`package` refused two of one name)."""
    found: dict[str, LambdaAuthorizer] = {}
    for function in application.functions:
        for authorizer in function.triggers_of(HttpAuthorizer):
            found.setdefault(authorizer.name, LambdaAuthorizer(function, authorizer))
    return found


def protected_routes(application: Application) -> list[tuple[Function, HttpRoute]]:
    """Every route that names an authorizer, with its function, sorted by function and key."""
    return [
        (function, route)
        for function in sorted(application.functions, key=lambda f: f.name)
        for route in sorted(function.routes, key=lambda r: r.route_key)
        if route.authorizer is not None
    ]


def check_route_authorizers(application: Application, jwt: Collection[str] | None) -> None:
    """Refuse a route whose authorizer does not exist, or that asks a Lambda one for scopes.

    `jwt` are the JWT authorizers the stage configures; None when any other name is a JWT
    authorizer (locally, where the workspace's keys verify every name).
    """
    lambdas = lambda_authorizers(application)
    for function, route in protected_routes(application):
        name = route.authorizer or ""
        if name in lambdas and route.scopes:
            raise ConfigError(
                f"route {route.route_key} of {function.name} asks the Lambda authorizer "
                f"{name!r} for scopes {', '.join(route.scopes)}: API Gateway checks scopes of "
                "JWT authorizers only",
                hint="drop scopes= from @triggers.authorized, and let the Lambda authorizer "
                "decide (its answer's isAuthorized)",
            )
        if name in lambdas or jwt is None or name in jwt:
            continue
        known = ", ".join(sorted({*lambdas, *jwt})) or "none"
        raise ConfigError(
            f"route {route.route_key} of {function.name} needs the authorizer {name!r}, which "
            f"neither a function of the project (@triggers.authorizer) nor the stage's "
            f"configuration declares (known: {known})",
            hint=f"declare [tool.lambdapress.deploy.authorizers.{name}] with issuer and "
            "audiences in the root pyproject.toml, or mark a function with "
            f'@triggers.authorizer("{name}")',
        )
