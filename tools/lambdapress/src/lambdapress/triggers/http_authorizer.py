"""Lambda authorizers: a function of the project that API Gateway asks before a route runs.

Declared in the authorizer's own handler module (`lambdapress_runtime.triggers`):

    from lambdapress_runtime import triggers

    @triggers.authorizer("partners", ttl=300, identity_source=["$request.header.x-api-key"])
    def handler(event, context):
        return {"isAuthorized": event["headers"].get("x-api-key") == "...", "context": {...}}

and named by the routes it guards (`@triggers.authorized("partners")`, `triggers._authorized`).
It is an ordinary function of the project (its own zip, role and log group; `nox -s package`
builds it), invoked with payload 2.0 REQUEST events and answering simple responses.

- checked: one function per authorizer name, and a function of its own (a service bundled
  whole, `bundle = "service"`, would make every route's handler the authorizer too);
- permissions: none for its role; API Gateway's right to invoke it is a resource-based
  permission rendered with the authorizer;
- rendered with the routes that name it (`deploy.template_api`): an `AWS::ApiGatewayV2::
  Authorizer` of type REQUEST and its invoke permission, once some route needs it;
- delivered locally by the HTTP API front end, before the route's function
  (`emulator.authorizers`), with API Gateway's cache of the answers;
- sample event: a REQUEST authorizer event of a GET / with an Authorization header.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from lambdapress.errors import BundleError
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import (
    CheckContext,
    Declared,
    HandlerSource,
    LocalHost,
    LocalOptions,
    LocalSource,
    StackBuilder,
    TriggerKind,
)
from lambdapress.model.triggers import HttpAuthorizer
from lambdapress.triggers._declarations import declarations
from lambdapress.triggers._references import trigger


class HttpAuthorizerKind(TriggerKind[HttpAuthorizer]):
    """Lambda authorizers of the HTTP API (module doc)."""

    model = HttpAuthorizer

    def discover(self, source: HandlerSource) -> tuple[Declared[HttpAuthorizer], ...]:
        """The handler's `@triggers.authorizer(...)`."""
        found = declarations(source).of("authorizer")
        if len(found) > 1:
            raise BundleError(
                "@triggers.authorizer decorates the handler twice: a function is one authorizer",
                path=source.path,
                line=found[1].line,
                hint="keep one @triggers.authorizer(NAME, ...) per handler module",
            )
        return tuple(trigger(source, HttpAuthorizer, d, d.arguments) for d in found)

    def check(self, declared: Sequence[Declared[HttpAuthorizer]], context: CheckContext) -> None:
        """One function per name, and that function its module's own."""
        seen: dict[str, Declared[HttpAuthorizer]] = {}
        for found in declared:
            if found.deployed_as != found.function:
                raise BundleError(
                    f"the Lambda authorizer {found.trigger.name!r} is bundled into "
                    f"{found.deployed_as} with the service's routes",
                    path=found.path,
                    line=found.line,
                    hint="an authorizer is a function of its own: move it to a service "
                    'bundled per handler (the default; not bundle = "service")',
                )
            other = seen.get(found.trigger.name)
            if other is not None:
                raise BundleError(
                    f"the authorizer {found.trigger.name!r} is declared twice: here and in "
                    f"{other.path}:{other.line} ({other.function})",
                    path=found.path,
                    line=found.line,
                    hint="give each authorizer one function, or another name",
                )
            seen[found.trigger.name] = found

    def render(self, stack: StackBuilder, application: Application) -> None:
        """Nothing of its own: the routes that name it render it (`deploy.template_api`).

        An authorizer no route names needs no resource besides its function.
        """

    def local_source(self, host: LocalHost[Any], options: LocalOptions) -> LocalSource:
        """A placeholder on `serve`'s list: the HTTP API front end invokes authorizers."""
        from lambdapress.emulator.authorizers import ThroughHttpApi

        return ThroughHttpApi()

    def sample_event(self, function: Function, trigger: HttpAuthorizer) -> Any:
        """A REQUEST authorizer event (payload 2.0) for a GET / with each identity source."""
        from lambdapress.emulator.authorizers import sample_authorizer_event

        return sample_authorizer_event(trigger)


KIND = HttpAuthorizerKind()
