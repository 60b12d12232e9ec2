"""Reserved concurrency of PostgreSQL functions, from the database's connection budget.

Each container holds one PostgreSQL connection (the service template's `dependencies.py`), so
a function's concurrent executions are its open connections. Without a cap, a burst scales a
function to hundreds of containers and the database refuses connections past
`max_connections`: every function of that database fails, not only the busy one. So each
function that uses a PostgreSQL database gets a reserved concurrency on a production stage
(and on any stage that sets `hardening.database-connections`): the stage's budget
(`database-connections`, default 100, less `connections-held-back`) less what the
database's functions with an explicit `reserved_concurrency` take, shared out evenly among the
others, rounded down. A function whose share would be 0 is an error (0 would stop it): the
budget is too small for that many functions.

Reserved concurrency also takes that many executions from the account's pool, which Lambda
keeps at 100 or more for unreserved functions (all 10 of an account still on the starting
quota): an account whose quota is too low refuses the stack, with Lambda's message; the quota
is raised in Service Quotas.
"""

from __future__ import annotations

from lambdapress.config.hardening_settings import HardeningSettings
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application, Function
from lambdapress.model.resources import PostgresDatabase


def connection_budget(
    application: Application, hardening: HardeningSettings, production: bool
) -> dict[str, int]:
    """Function name -> the reserved concurrency its database's budget gives it.

    Only functions that use a PostgreSQL database and set no `reserved_concurrency` appear,
    and none on a stage without a budget (not production, `database-connections` unset).
    """
    total = hardening.connection_budget(production)
    if total is None:
        return {}
    by_database: dict[str, list[Function]] = {}
    for function in application.functions:
        for resource in application.used_by(function):
            if isinstance(resource, PostgresDatabase):
                by_database.setdefault(resource.id, []).append(function)
    shares: dict[str, int] = {}
    available = total - hardening.connections_held_back
    for database, functions in sorted(by_database.items()):
        explicit = [f for f in functions if f.capacity.reserved_concurrency is not None]
        capped = [f for f in functions if f.capacity.reserved_concurrency is None]
        if not capped:
            continue
        left = available - sum(f.capacity.reserved_concurrency or 0 for f in explicit)
        share = left // len(capped)
        if share < 1:
            raise ConfigError(
                f"the PostgreSQL database {database} has {available} connections for its "
                f"functions ({total} less "
                f"{hardening.connections_held_back} held back); "
                f"{', '.join(f.name for f in explicit) or 'none'} reserve "
                f"{available - left} and nothing is left for "
                f"{', '.join(f.name for f in capped)}",
                hint="raise database-connections in [tool.lambdapress.deploy.stages.STAGE."
                "hardening] (to the server's max_connections), or lower reserved_concurrency "
                "of those functions",
            )
        for function in capped:
            shares[function.name] = share
    return shares


def with_connection_budget(
    application: Application, hardening: HardeningSettings, production: bool
) -> Application:
    """The model with each PostgreSQL function's reserved concurrency set from the budget."""
    shares = connection_budget(application, hardening, production)
    if not shares:
        return application
    functions = []
    for function in application.functions:
        share = shares.get(function.name)
        if share is not None:
            provisioned = function.capacity.provisioned_concurrency
            if provisioned is not None and provisioned > share:
                raise ConfigError(
                    f"function {function.name} asks for {provisioned} provisioned "
                    f"environments, more than the {share} connections its database's budget "
                    "gives it (reserved concurrency caps provisioned concurrency)",
                    hint="lower provisioned_concurrency, set reserved_concurrency for it "
                    "explicitly, or raise database-connections of the stage",
                )
            capacity = function.capacity.model_copy(update={"reserved_concurrency": share})
            function = function.model_copy(update={"capacity": capacity})
        functions.append(function)
    return application.model_copy(update={"functions": tuple(functions)})
