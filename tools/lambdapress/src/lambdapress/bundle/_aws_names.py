"""Package time: every name and value a deploy will hand AWS, checked with AWS's own rules.

A deploy builds the stack's names from what the repository chose (services, handler modules,
routes, tables, variables) and from the project and the stage. The stage is not known when
`package` runs, so each rule whose value contains it is checked here with the longest project
and stage names lambdapress accepts (`names.PROJECT_MAX`, `names.STAGE_MAX`): every real stage
makes names at most that long, so what passes here cannot fail in `template` or `deploy`.
The function name is the one exception: deploy fits `<project>-<stage>-<service>-<module>` into
Lambda's 64 characters itself (a longer name keeps its start and ends in a digest, see
`deploy.template_ids.physical_function_name`), so only its characters are checked here.

What the stack adds to each function's environment counts towards Lambda's 4 KB: each
storage backend says what it adds for its resources, at their longest (`environment_budget`,
see `model.storage_backends`: a `<TABLE>_TABLE` per DynamoDB table, the table's name as long as
the longest project and stage make it; for PostgreSQL, `DATABASE_SECRET_NAME`, the name of the
secret the function reads its URL from), and so do the names of the secrets and parameters the
service reads (`model.config_resources`). The backend also checks the names the stack makes
of its declaration (`check`: DynamoDB's table names). A function that uses a queue, topic,
bus or bucket also gets its address (`<REF>_QUEUE_URL`...), counted per function at its longest
(`model.event_names.address_budget`) by `check_function_environment`, once the function's uses
are known.

A service's queues, topics, event buses and buckets are named like its functions,
`<project>-<stage>-<service>-<name>` (`.fifo` added for FIFO queues and topics, a bucket's
account and region after it), and fitted the same way: a name longer than SQS's 80, SNS's or
EventBridge's 256 or S3's 63 characters keeps its start and ends in a digest of the whole
(`model.event_names`, which deploy and the local servers share). Their characters are AWS's by
construction (the settings' name rule), so nothing about them can fail here.

The rules and where AWS writes them are in `lambdapress.config.aws_rules` and
`config.event_rules`; the README's "What is checked before deploy" lists them.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from lambdapress.bundle._implementations import pinned_variables
from lambdapress.bundle._wiring import config_resources
from lambdapress.bundle.discovery import SERVICE_FUNCTION, HandlerModule
from lambdapress.config.aws_rules import (
    FUNCTION_NAME,
    HANDLER,
    HANDLER_MODULE,
    camel,
    environment_size,
    environment_size_problem,
)
from lambdapress.config.names import PROJECT_MAX, STAGE_MAX
from lambdapress.config.pyproject import PYPROJECT, find_key_line
from lambdapress.config.stage_settings import STAGE_VARIABLES_AT_LONGEST
from lambdapress.config.workspace import Service, Workspace
from lambdapress.errors import BundleError
from lambdapress.model.config_resources import Parameter, Secret, config_environment
from lambdapress.model.event_names import address_budget, is_event_resource
from lambdapress.model.resources import Resource
from lambdapress.model.storage_backends import (
    EnvironmentBudget,
    StageNames,
    StorageDeclaration,
    storage_declaration,
)

LONGEST_PROJECT = "p" * PROJECT_MAX
LONGEST_STAGE = "s" * STAGE_MAX
LONGEST = StageNames(LONGEST_PROJECT, LONGEST_STAGE)
_ENVIRONMENT_TABLE = ("tool", "lambdapress", "environment")


def check_for_aws(workspace: Workspace, functions: Iterable[HandlerModule]) -> None:
    """Refuse, with the file, the line and the fix, any name or value AWS would refuse.

    `functions` are every handler module of the workspace (as `discovery` found them).
    """
    functions = tuple(functions)
    services = {service.name: service for service in workspace.services}
    for service in workspace.services:
        _check_service_name(service)
    for function in functions:
        _check_function(services[function.service], function)
    _check_logical_ids(services, functions)
    for service in workspace.services:
        declaration = storage_declaration(service, workspace.root)
        declaration.backend.check(declaration, LONGEST)
        _check_environment(service, declaration)


def _check_service_name(service: Service) -> None:
    """A service's name is in its functions', tables' and roles' names: ASCII only."""
    if HANDLER_MODULE.fullmatch(service.name) is None:
        pyproject = service.path / PYPROJECT
        raise BundleError(
            f"service name {service.name!r} has characters AWS refuses in the names made from "
            f"it: its functions are named <project>-<stage>-{service.name}-<module>, and "
            f"{FUNCTION_NAME.what} allows only ASCII letters, digits, '-' and '_' "
            f"({FUNCTION_NAME.source})",
            path=pyproject,
            line=find_key_line(pyproject, ["project", "name"]),
            hint="rename the service (its folder, [project] name and package) with ASCII "
            "letters, digits and underscores",
        )


def _check_function(service: Service, function: HandlerModule) -> None:
    """The handler module's name and Lambda's `Handler` made from it."""
    module = function.module.rsplit(".", 1)[1]
    if HANDLER_MODULE.fullmatch(module) is None:
        odd = ", ".join(repr(c) for c in sorted({c for c in module if not c.isascii()}))
        folded = unicodedata.normalize("NFKD", module).encode("ascii", "ignore").decode()
        ascii_name = folded if HANDLER_MODULE.fullmatch(folded) else None
        raise BundleError(
            f"handler module name {module!r} has characters a Lambda function name cannot "
            f"hold ({odd}): the function would be named "
            f"<project>-<stage>-{service.name}-{module}, and {FUNCTION_NAME.what} allows only "
            f"ASCII letters, digits, '-' and '_' ({FUNCTION_NAME.source})",
            path=function.source,
            line=function.handler_line,
            hint="rename the module with ASCII letters, digits and underscores"
            + (f" (e.g. {ascii_name}.py)" if ascii_name else ""),
        )
    problem = HANDLER.problem(function.handler)
    if problem is not None:
        raise BundleError(
            f"{problem} ({HANDLER.source}): Lambda runs this module as `{function.handler}`",
            path=function.source,
            line=function.handler_line,
            hint=f"shorten the service's or the module's name: Lambda's handler "
            f"`<service>.handlers.<module>.handler` has at most {HANDLER.max_length} characters",
        )


def _units(
    service: Service, functions: list[HandlerModule]
) -> list[tuple[str, list[HandlerModule]]]:
    """The functions the stack will have for a service: its name, and the modules in it."""
    if service.settings.bundle == "service":
        return [(f"{service.name}.{SERVICE_FUNCTION}", functions)] if functions else []
    return [(function.name, [function]) for function in functions]


def _check_logical_ids(services: dict[str, Service], functions: tuple[HandlerModule, ...]) -> None:
    """No two functions end up under one logical id (each trigger kind checks its own).

    The template names resources by the CamelCase words of a name (`deploy.template_ids`):
    `get_order` and `getOrder` are both `GetOrder`. CloudFormation keys resources by logical
    id, so such a pair cannot deploy.
    """
    taken: dict[str, tuple[str, HandlerModule]] = {}
    for service in sorted(services.values(), key=lambda s: s.name):
        mine = [f for f in functions if f.service == service.name]
        for name, members in _units(service, mine):
            first = members[0]
            logical = camel(name)
            if logical in taken and taken[logical][0] != name:
                other, other_function = taken[logical]
                raise BundleError(
                    f"functions {name} and {other} ({other_function.source}) both become the "
                    f"CloudFormation resource {logical}Function: logical ids keep only the "
                    "letters and digits of a name",
                    path=first.source,
                    line=first.handler_line,
                    hint="rename one of the modules so that the two differ in more than "
                    "underscores and letter case",
                )
            taken[logical] = (name, first)


def _stack_budgets(declaration: StorageDeclaration[Any]) -> list[EnvironmentBudget]:
    """What the stack adds for each resource of the declaration, at its longest."""
    backend = declaration.backend
    return [backend.environment_budget(r, LONGEST) for r in backend.resources(declaration)]


def stack_environment(service: Service, root: Path) -> dict[str, str]:
    """The variables the stack adds to the service's functions, at their longest.

    The names `deploy.template_services.resource_environment` adds (both ask the service's
    storage backend); the values are the longest they can be at deploy time.
    """
    budgets = _stack_budgets(storage_declaration(service, root))
    added = {name: value for budget in budgets for name, value in budget.variables.items()}
    return {**added, **_read_variables(service)}


def _read_variables(service: Service) -> dict[str, str]:
    """The names (and max ages) of the service's secrets and parameters, at their longest."""
    variables: dict[str, str] = {}
    for resource in config_resources(service):
        assert isinstance(resource, Secret | Parameter)
        variables.update(config_environment(resource, LONGEST_PROJECT, LONGEST_STAGE))
    return variables


def _check_environment(service: Service, declaration: StorageDeclaration[Any]) -> None:
    """The service's variables and the stack's together: no clash, Lambda's 4 KB at most."""
    pyproject = service.path / PYPROJECT
    own = service.settings.environment
    budgets = _stack_budgets(declaration)
    added = {name: value for budget in budgets for name, value in budget.variables.items()}
    added.update(_read_variables(service))
    staged = STAGE_VARIABLES_AT_LONGEST
    for key in sorted(set(own) & {*added, *staged}):
        raise BundleError(
            f"service {service.name} sets {key} in [tool.lambdapress.environment], but the "
            "stack sets it from [tool.lambdapress.storage], secrets, parameters or the "
            "stage's settings",
            path=pyproject,
            line=find_key_line(pyproject, [*_ENVIRONMENT_TABLE, key]),
            hint=f"remove {key} from [tool.lambdapress.environment] (or rename it)",
        )
    # The implementation pins `package` may add (`PSYCOPG_IMPL`), at their longest value:
    # which ones apply is known only after the import closure, their budget is known now.
    pins = {k: v for k, v in pinned_variables().items() if k not in own}
    problem = environment_size_problem({**own, **added, **staged, **pins})
    if problem is None:
        return
    # The first variable's line (a key that is a table header has no line of its own).
    line = find_key_line(pyproject, [*_ENVIRONMENT_TABLE, next(iter(own))]) if own else None
    line = line or find_key_line(pyproject, ["tool", "lambdapress", "storage", "kind"])
    notes = ", ".join(dict.fromkeys(b.note for b in budgets if b.variables and b.note))
    adds = (
        f"the stack adds {', '.join(sorted(added))}{f' ({notes})' if notes else ''}"
        if added
        else "the stack adds none"
    )
    adds += f"; a stage's settings may add {', '.join(sorted(staged))}"
    adds += f"; implementation pins take up to {environment_size(pins) - 2} bytes"
    raise BundleError(
        f"service {service.name}: {problem}; its own take {environment_size(own)} bytes, {adds}",
        path=pyproject,
        line=line,
        hint="move large values to SSM Parameter Store or Secrets Manager and read them at "
        "run time, or shorten the variables' names and values",
    )


def check_function_environment(
    service: Service,
    root: Path,
    function: str,
    environment: Mapping[str, str],
    used: Iterable[Resource],
) -> None:
    """`function`'s variables with the addresses of the event resources it uses: within 4 KB.

    `environment` is its own (the service's and its pins), `used` what it uses; what the
    service's storage adds is counted too, at its longest, as `_check_environment` does.
    """
    events = [resource for resource in used if is_event_resource(resource)]
    addresses: dict[str, str] = {}
    for resource in events:
        addresses.update(address_budget(service.name, resource, LONGEST_PROJECT, LONGEST_STAGE))
    if not addresses:
        return
    pyproject = service.path / PYPROJECT
    for key in sorted(set(environment) & set(addresses)):
        raise BundleError(
            f"function {function} sets {key} in its environment, but the stack sets it to the "
            "address of a resource it uses",
            path=pyproject,
            line=find_key_line(pyproject, [*_ENVIRONMENT_TABLE, key]),
            hint=f"remove {key} from [tool.lambdapress.environment] (or rename it)",
        )
    storage = stack_environment(service, root)
    problem = environment_size_problem({**environment, **storage, **addresses})
    if problem is None:
        return
    raise BundleError(
        f"function {function}: {problem}; its own take {environment_size(environment)} bytes, "
        f"the addresses of the {len(events)} queues, topics, buses and buckets it uses take up to "
        f"{environment_size(addresses) - 2} (names as long as the longest project and stage "
        "make them)",
        path=pyproject,
        line=find_key_line(pyproject, ["project", "name"]),
        hint="use fewer queues, topics, buses and buckets from one function (split it), or "
        "move large variables to SSM Parameter Store and read them at run time",
    )
