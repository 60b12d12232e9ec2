"""The secrets and parameters a stage's template makes CloudFormation resolve, checked to exist.

CloudFormation resolves a dynamic reference (`{{resolve:secretsmanager:...}}`,
`{{resolve:ssm:...}}`, `{{resolve:ssm-secure:...}}`) while it deploys: a missing secret fails
the stack half way, or, where a reference is read later, the first request of the deployed
function. So deploy reads every reference out of the template it is about to send, asks
Secrets Manager and SSM whether each one exists (never reading a secret's value), and stops
before any change, naming each missing one, who uses it and how to create it.

The references come from the rendered template, not from the settings that put them there, so
a reference written by hand into `[tool.lambdapress.environment]` is checked too. What functions
read at run time is checked alike: each pair of variables the stack sets for a secret or a
parameter (`<NAME>_SECRET_NAME` with `<NAME>_SECRET_MAX_AGE`, `<NAME>_PARAMETER_NAME` with
`<NAME>_PARAMETER_MAX_AGE`: the PostgreSQL secret of `[tool.lambdapress.storage]`, the
declared `[tool.lambdapress.secrets]` and `parameters`) names one that must exist, or the
function's first request fails; such a parameter may be a String or a SecureString.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from lambdapress.errors import DeployError

if TYPE_CHECKING:
    from lambdapress.deploy.aws import Aws

Kind = Literal["secretsmanager", "ssm", "ssm-secure", "parameter"]
"""How it is read: CloudFormation's three dynamic references, or `parameter`: by the function
at run time, decrypted when it is a SecureString."""
_READ_AT_RUN_TIME: dict[str, Kind] = {"SECRET": "secretsmanager", "PARAMETER": "parameter"}
_REFERENCE = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure|ssm):([^}]+)\}\}")
_SECRET_ARN_PARTS = 7  # arn:partition:secretsmanager:region:account:secret:name-suffix
_PARAMETER_ARN_PARTS = 6  # arn:partition:ssm:region:account:parameter/name
_SSM_PARAMETER_TYPE = "AWS::SSM::Parameter::Value<"


@dataclass(frozen=True)
class Reference:
    """One secret or parameter the template refers to, and where."""

    kind: Kind
    name: str
    """The secret's name or ARN; the parameter's name or ARN."""
    version: str | None = None
    """`ssm`: a parameter version; `secretsmanager`: a version stage or id."""
    users: tuple[str, ...] = field(default=(), compare=False)
    """Where the template uses it: `OrdersGetOrderFunction DATABASE_URL`."""

    @property
    def label(self) -> str:
        """`secret NAME` or `parameter NAME` (with its version when one is pinned)."""
        what = "secret" if self.kind == "secretsmanager" else "parameter"
        version = f" (version {self.version})" if self.version else ""
        return f"{what} {self.name}{version}"

    @property
    def fix(self) -> str:
        """The command that creates it (its value is the user's to fill in)."""
        if self.kind == "secretsmanager":
            return (
                f"aws secretsmanager create-secret --name {self.name} --secret-string '<the value>'"
            )
        kind = "SecureString" if self.kind == "ssm-secure" else "String"
        if self.kind == "parameter":
            kind = "String (or SecureString)"
        return f"aws ssm put-parameter --name {self.name} --type {kind} --value '<the value>'"


def template_references(body: str) -> tuple[Reference, ...]:
    """Every secret and parameter the template resolves or its functions read, in name order.

    Each once, with every place that uses it. Also what CloudFormation reads the same way
    without a `{{resolve:...}}`: the default of a parameter typed
    `AWS::SSM::Parameter::Value<...>` (a stage's network IDs held in SSM), and the secret an
    RDS Proxy authenticates with.
    """
    found: dict[tuple[str, str, str | None], list[str]] = {}
    document = json.loads(body)
    _walk(document, [], found)
    _read_at_run_time(document, found)
    _stack_reads(document, found)
    return tuple(
        Reference(kind, name, version, tuple(dict.fromkeys(users)))  # type: ignore[arg-type]
        for (kind, name, version), users in sorted(found.items(), key=lambda i: (i[0][1], i[0]))
    )


def _walk(node: Any, path: list[str], found: dict[tuple[str, str, str | None], list[str]]) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            _walk(value, [*path, str(key)], found)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _walk(value, [*path, str(index)], found)
    elif isinstance(node, str):
        for match in _REFERENCE.finditer(node):
            key = _parse(match[1], match[2])
            found.setdefault(key, []).append(_user(path))


def _read_at_run_time(document: Any, found: dict[tuple[str, str, str | None], list[str]]) -> None:
    """The secrets and parameters functions' variables name (module doc)."""
    resources = document.get("Resources", {}) if isinstance(document, dict) else {}
    for logical_id, resource in resources.items():
        environment = resource.get("Properties", {}).get("Environment", {})
        variables = environment.get("Variables", {}) if isinstance(environment, dict) else {}
        for key, value in variables.items():
            for word, kind in _READ_AT_RUN_TIME.items():
                prefix = key.removesuffix(f"_{word}_NAME")
                paired = f"{prefix}_{word}_MAX_AGE" in variables
                if prefix != key and paired and isinstance(value, str):
                    found.setdefault((kind, value, None), []).append(f"{logical_id} {key}")


def _stack_reads(document: Any, found: dict[tuple[str, str, str | None], list[str]]) -> None:
    for name, parameter in document.get("Parameters", {}).items():
        kind = str(parameter.get("Type", ""))
        if kind.startswith(_SSM_PARAMETER_TYPE) and "Default" in parameter:
            found.setdefault(("ssm", parameter["Default"], None), []).append(f"Parameters.{name}")
    for logical_id, resource in document.get("Resources", {}).items():
        if resource.get("Type") != "AWS::RDS::DBProxy":
            continue
        for auth in resource.get("Properties", {}).get("Auth", []):
            if isinstance(auth.get("SecretArn"), str):
                key = ("secretsmanager", auth["SecretArn"], None)
                found.setdefault(key, []).append(f"{logical_id} Auth")


def _parse(kind: str, rest: str) -> tuple[str, str, str | None]:
    """(kind, name, version) of `{{resolve:kind:rest}}`, as CloudFormation splits it."""
    parts = rest.split(":")
    if kind == "secretsmanager":
        # secret-id[:SecretString[:json-key[:version-stage[:version-id]]]]; the id may be an ARN.
        size = _SECRET_ARN_PARTS if parts[0] == "arn" else 1
        name, options = ":".join(parts[:size]), parts[size:]
        stage = options[2] if len(options) > 2 else ""
        version_id = options[3] if len(options) > 3 else ""
        return kind, name, version_id or stage or None
    size = _PARAMETER_ARN_PARTS if parts[0] == "arn" else 1
    name, options = ":".join(parts[:size]), parts[size:]
    return kind, name, options[0] if options and options[0] else None


def _user(path: list[str]) -> str:
    """`OrdersGetOrderFunction DATABASE_URL` for a function's variable; else where it is."""
    if len(path) > 1 and path[0] == "Resources":
        if path[2:5] == ["Properties", "Environment", "Variables"]:
            return f"{path[1]} {path[-1]}"
        return f"{path[1]} {'.'.join(path[2:])}"
    return ".".join(path)


def check_references(aws: Aws, references: tuple[Reference, ...]) -> None:
    """Stop when a secret or parameter the template resolves is missing (or unusable).

    One error names every problem, so a first deploy does not find them one run at a time.
    """
    problems: list[str] = []
    fixes: list[str] = []
    for reference in references:
        problem = _problem(aws, reference)
        if problem is None:
            continue
        users = ", ".join(reference.users[:4]) + (" ..." if len(reference.users) > 4 else "")
        problems.append(f"\n  {reference.label} {problem} (used by {users})")
        fixes.append(reference.fix)
    if problems:
        count = len(problems)
        raise DeployError(
            f"{'one secret or parameter' if count == 1 else f'{count} secrets or parameters'} "
            f"the stack refers to cannot be resolved; nothing was changed:" + "".join(problems),
            hint="create them first (in this account and region): " + "; ".join(fixes),
        )


def _problem(aws: Aws, reference: Reference) -> str | None:
    """What is wrong with one reference, or None when CloudFormation can resolve it."""
    if reference.kind == "secretsmanager":
        secret = aws.secret(reference.name)
        if secret is None:
            return "does not exist"
        if secret.deleted:
            return "is scheduled for deletion"
        if reference.version and reference.version not in secret.versions:
            return f"has no version {reference.version}"
        return None
    parameter = aws.parameter(reference.name, reference.version)
    if parameter is None:
        return "does not exist"
    if reference.kind == "ssm" and parameter.kind == "SecureString":
        return "is a SecureString, which {{resolve:ssm:...}} cannot read (use ssm-secure)"
    if reference.kind == "ssm-secure" and parameter.kind != "SecureString":
        return f"is a {parameter.kind}, not a SecureString (use {{{{resolve:ssm:...}}}})"
    return None
