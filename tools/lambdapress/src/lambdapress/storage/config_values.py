"""Secrets and parameters locally: moto's server holds them, seeded from a git-ignored file.

    # .lambdapress/secrets.local.toml (git-ignored): values by their name in the local stage
    [secrets]
    "acme/local/payments/stripe" = "sk_test_..."
    [parameters]
    "/acme/local/payments/tax-rate" = "0.2"

A service's `[tool.lambdapress.secrets]` and `parameters` are read at run time through
Secrets Manager and SSM (`lambdapress_runtime.secrets`). Locally those are the events server's
moto (`storage.events_server`: `lambdapress db`'s, or `serve`'s own): each function gets boto3's
endpoints for both (`AWS_ENDPOINT_URL_SECRETS_MANAGER`, `AWS_ENDPOINT_URL_SSM`) and the names
in the local stage (`STRIPE_SECRET_NAME=acme/local/payments/stripe`), as deployed functions get
the stage's. The server starts empty, so each start seeds it from the file: a value the server
does not hold yet is created from it; one it holds stays as it is, so a value changed in the
server (`aws --endpoint-url ... secretsmanager put-secret-value`, a test rotating a secret) is
what functions read until the server stops.

A declared secret or parameter that neither the server nor the file has is an error before the
first request (`missing_values`), naming it, the service that declares it and the line to add:
otherwise the first request would fail with Secrets Manager's ResourceNotFoundException.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from lambdapress.config.pyproject import load_toml
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application
from lambdapress.model.config_resources import (
    ConfigResource,
    Parameter,
    Secret,
    config_environment,
    physical_name,
)
from lambdapress.model.storage_backends import LOCAL_STAGE
from lambdapress.storage.events import EventsEndpoint

LOCAL_VALUES: Final = Path(".lambdapress") / "secrets.local.toml"
"""Relative to the repository's root; the template's .gitignore leaves `.lambdapress/` out."""
ENDPOINT_VARIABLES: Final = ("AWS_ENDPOINT_URL_SECRETS_MANAGER", "AWS_ENDPOINT_URL_SSM")
"""boto3's per-service endpoints (by service id: `Secrets Manager` becomes `SECRETS_MANAGER`)."""
_TABLES: Final = ("secrets", "parameters")


@dataclass(frozen=True)
class LocalValues:
    """What the file holds: name in the local stage -> value, for secrets and parameters."""

    path: Path
    secrets: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)


def read_local_values(root: Path) -> LocalValues:
    """The file's values (none when there is no file); a wrong shape names the file and fix."""
    path = root / LOCAL_VALUES
    if not path.is_file():
        return LocalValues(path)
    data = load_toml(path)
    unknown = sorted(set(data) - set(_TABLES))
    if unknown:
        raise ConfigError(
            f"unknown table [{unknown[0]}]",
            path=path,
            hint='write values under [secrets] or [parameters]: "NAME" = "value"',
        )
    tables: dict[str, dict[str, str]] = {}
    for table in _TABLES:
        values: Any = data.get(table, {})
        wrong = [k for k, v in values.items() if not isinstance(v, str)]
        if wrong:
            raise ConfigError(
                f"[{table}] {wrong[0]!r} is not a string",
                path=path,
                hint=f'quote the value: "{wrong[0]}" = "..." (a secret is text; JSON goes in '
                "a string)",
            )
        tables[table] = dict(values)
    return LocalValues(path, tables["secrets"], tables["parameters"])


def config_resources(application: Application) -> tuple[ConfigResource, ...]:
    """The secrets and parameters of the build."""
    return tuple(r for r in application.resources if isinstance(r, Secret | Parameter))


def local_environment(endpoint: EventsEndpoint, used: Iterable[object]) -> dict[str, str]:
    """The endpoints and the local names of the secrets and parameters in `used`."""
    variables = dict.fromkeys(ENDPOINT_VARIABLES, endpoint.url)
    names = endpoint.names
    for resource in used:
        if isinstance(resource, Secret | Parameter):
            variables.update(config_environment(resource, names.project, names.stage))
    return variables


def seed_values(
    endpoint: EventsEndpoint, application: Application, values: LocalValues
) -> tuple[str, ...]:
    """Create what the server lacks and the file has; what was created (`secret NAME`)."""
    created: list[str] = []
    held = _held(endpoint)
    for resource in config_resources(application):
        name = physical_name(resource, endpoint.names.project, endpoint.names.stage)
        secret = isinstance(resource, Secret)
        value = (values.secrets if secret else values.parameters).get(name)
        if value is None or (_label(resource), name) in held:
            continue
        if secret:
            endpoint.client("secretsmanager").create_secret(Name=name, SecretString=value)
        else:
            endpoint.client("ssm").put_parameter(Name=name, Value=value, Type="String")
        created.append(f"{_label(resource)} {name}")
    return tuple(created)


def missing_values(
    endpoint: EventsEndpoint | None,
    application: Application,
    services: Iterable[str],
    project: str,
) -> ConfigError | None:
    """The error naming every secret and parameter of `services` nothing local holds, or None.

    Without a server (`invoke` with no `lambdapress db` running), all of them are missing.
    """
    wanted = set(services)
    declared = [r for r in config_resources(application) if r.service in wanted]
    if not declared:
        return None
    held = _held(endpoint) if endpoint is not None else set()
    problems: list[str] = []
    lines: dict[str, list[str]] = {"secrets": [], "parameters": []}
    for resource in declared:
        name = physical_name(resource, project, LOCAL_STAGE)
        if (_label(resource), name) in held:
            continue
        table = "secrets" if isinstance(resource, Secret) else "parameters"
        problems.append(
            f"\n  {_label(resource)} {name} ([tool.lambdapress.{table}.{resource.name}] of "
            f"service {resource.service})"
        )
        lines[table].append(f'"{name}" = "<the value>"')
    if not problems:
        return None
    count = len(problems)
    where = "`lambdapress db` or serve's moto" if endpoint is not None else "no local server"
    additions = "; ".join(f"[{t}] {', '.join(found)}" for t, found in lines.items() if found)
    start = "" if endpoint is not None else "start `nox -s db` (it seeds them), and "
    return ConfigError(
        f"{count} secret{'s' if count > 1 else ''} or parameter{'s' if count > 1 else ''} the "
        f"functions read {'has' if count == 1 else 'have'} no local value ({where}):"
        + "".join(problems),
        path=LOCAL_VALUES,
        hint=f"{start}add to {LOCAL_VALUES} (git-ignored): {additions}; or create them in "
        "the events server with `aws --endpoint-url URL secretsmanager create-secret` / `ssm "
        "put-parameter`",
    )


def _label(resource: ConfigResource) -> str:
    return "secret" if isinstance(resource, Secret) else "parameter"


def _held(endpoint: EventsEndpoint) -> set[tuple[str, str]]:
    """(`secret`|`parameter`, name) of everything the server holds."""
    held: set[tuple[str, str]] = set()
    manager = endpoint.client("secretsmanager")
    for page in manager.get_paginator("list_secrets").paginate():
        held.update(("secret", s["Name"]) for s in page.get("SecretList", []))
    ssm = endpoint.client("ssm")
    for page in ssm.get_paginator("describe_parameters").paginate():
        held.update(("parameter", p["Name"]) for p in page.get("Parameters", []))
    return held
