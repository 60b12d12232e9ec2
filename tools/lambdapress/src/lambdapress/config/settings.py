"""The `[tool.lambdapress]` table of a service: how its Lambda functions are configured.

The settings are validated here, at load time, with AWS's own limits, so a typo or an
impossible value fails on the developer's machine with the file and key named instead of
minutes later in a deploy. Unknown keys are errors (`extra="forbid"`): a misspelt `memroy`
silently falling back to the default is the bug this module exists to prevent.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
)

from lambdapress.config.aws_rules import (
    environment_key_problem,
    environment_size_problem,
    environment_value_problem,
)
from lambdapress.config.deploy_settings import FIXES as DEPLOY_FIXES
from lambdapress.config.deploy_settings import (
    FunctionDeploySettings,
    IamSettings,
    check_function_keys,
)
from lambdapress.config.event_settings import FIXES as EVENT_FIXES
from lambdapress.config.event_settings import (
    BucketSettings,
    BusSettings,
    QueueSettings,
    ResourceName,
    TopicSettings,
)
from lambdapress.config.lambda_platform import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    EPHEMERAL_STORAGE_DEFAULT_MB,
    EPHEMERAL_STORAGE_MAX_MB,
    EPHEMERAL_STORAGE_MIN_MB,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    RUNTIMES,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    Architecture,
    EphemeralStorageMB,
    MemoryMB,
    Runtime,
    TimeoutSeconds,
)
from lambdapress.config.pyproject import get_table, load_toml
from lambdapress.config.secret_settings import FIXES as SECRET_FIXES
from lambdapress.config.secret_settings import ParameterSettings, SecretSettings
from lambdapress.config.storage_settings import StorageSettings
from lambdapress.config.validation import Source, config_error

TABLE = "tool.lambdapress"

_MODULE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")
# A distribution name as PEP 508 allows it (compared canonicalized, as the lock stores it).
_DISTRIBUTION = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# A library's file name as the loader looks it up: no folder, no spaces.
_LIBRARY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.+-]*$")

# How to fix each key, worded for the `fix:` line of an error.
_FIX = {
    "runtime": f"use one of {', '.join(RUNTIMES)}",
    "architecture": f"use one of {', '.join(ARCHITECTURES)}",
    "memory": f"use a whole number of MB from {MEMORY_MIN_MB} to {MEMORY_MAX_MB}",
    "timeout": f"use a whole number of seconds from {TIMEOUT_MIN_SECONDS} to {TIMEOUT_MAX_SECONDS}",
    "environment": 'write NAME = "value" pairs (values quoted); names match '
    "[A-Za-z][A-Za-z0-9_]+ and are not reserved by Lambda; at most 4 KB together (move "
    "large values to SSM Parameter Store or Secrets Manager)",
    "include": 'use a list of module names, e.g. ["orders.plugins"]',
    "ephemeral_storage": f"use a whole number of MB from {EPHEMERAL_STORAGE_MIN_MB} to "
    f"{EPHEMERAL_STORAGE_MAX_MB}",
    "bundle": 'use "function" (one zip per handler) or "service" (one zip for the service)',
    "aws_sdk": 'use "runtime" (the SDK Lambda provides) or "bundle" (ship the locked boto3)',
    "allow_files": "use a list of paths or globs relative to the service or package folder, "
    'e.g. ["src/orders/certs/ca.pem"]',
    "sources": 'use "first-party" (third-party modules ship as bytecode only) or "all" '
    "(every module ships its source too)",
    "keep_sources": 'use a list of distribution names as locked, e.g. ["torch"]',
    "docstrings": 'use "checked" (third-party bytecode without docstrings only for the '
    'distributions lambdapress checked never to read their own), "first-party" (every '
    'third-party distribution without them) or "all" (every module keeps its docstrings)',
    "layer_libraries": "use a list of the shared libraries a layer of the functions provides: "
    'file names (["libpq.so.5"]: that version) or library names (["libpq"]: any version)',
    "snapstart": "use true (SnapStart for every function of the service, python3.12 or "
    "later) or false",
    "storage": 'set kind = "NAME", the name of a storage backend such as "postgres" (lowercase '
    'letters, digits, "-" and "_"); the other keys of the table are that backend\'s',
    **DEPLOY_FIXES,
    **EVENT_FIXES,
    **SECRET_FIXES,
}


def _check_env_name(key: str) -> str:
    """Refuse names that Lambda would refuse at deploy time (`aws_rules`)."""
    problem = environment_key_problem(key)
    if problem is not None:
        raise ValueError(problem)
    return key


def _check_env_value(value: str) -> str:
    """Refuse values a process environment cannot hold (`aws_rules`)."""
    problem = environment_value_problem("the variable", value)
    if problem is not None:
        raise ValueError(problem)
    return value


EnvName = Annotated[str, AfterValidator(_check_env_name)]
EnvValue = Annotated[str, AfterValidator(_check_env_value)]


class ServiceSettings(BaseModel):
    """Lambda configuration shared by every function of one service."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    runtime: Runtime = DEFAULT_RUNTIME
    architecture: Architecture = DEFAULT_ARCHITECTURE
    memory: MemoryMB = 256
    timeout: TimeoutSeconds = 10
    ephemeral_storage: EphemeralStorageMB = EPHEMERAL_STORAGE_DEFAULT_MB
    """MB of /tmp each container gets; the emulator's workers get exactly that much too."""
    environment: dict[EnvName, EnvValue] = Field(default_factory=dict)
    include: list[str] = Field(default_factory=list)
    """Modules that static import analysis cannot see (imported by name at run time)."""
    bundle: Literal["function", "service"] = "function"
    """One artifact per handler (the default), or one for the whole service that routes
    every request to the endpoint modules, imported lazily."""
    aws_sdk: Literal["runtime", "bundle"] = "runtime"
    """Whether boto3/botocore are shipped. The Lambda runtime already has them, so by
    default they are left out (zips are ~20 MB smaller unzipped and deploy faster); "bundle"
    pins the locked version instead, for code that needs a newer SDK than the runtime's."""
    allow_files: list[str] = Field(default_factory=list)
    """Credential-like files (keys, certificates, `.npmrc`...) that are meant to ship: paths
    or `fnmatch` globs relative to the service's or the package's folder, or to the zip.
    Without an entry here such a file stops the build (see `bundle.shipping`)."""
    sources: Literal["first-party", "all"] = "first-party"
    """Whether third-party modules ship their `.py` sources. "first-party" (the default) ships
    them as bytecode only (`module.pyc` where the source was): zips are about a third smaller
    and imports are as fast, and tracebacks still name file and line. First-party code always
    keeps its sources. "all" ships every source, for code that reads third-party sources."""
    keep_sources: list[str] = Field(default_factory=list)
    """Distributions that keep their sources under `sources = "first-party"`: those that read
    their own `.py` files at run time (`inspect.getsource`, TorchScript...)."""
    docstrings: Literal["checked", "first-party", "all"] = "checked"
    """Which third-party bytecode keeps its docstrings under `sources = "first-party"`.
    Dropped, `__doc__` is None (as under `python -OO`, while asserts and `__debug__` stay as
    in a normal run): zips ~5% smaller, and code that reads its own `__doc__` breaks.
    "checked" (the default) drops them only for the distributions lambdapress checked never
    to read their own, at the versions checked (`config.docstrings`: pydantic, Powertools and
    the like), and keeps them for every other. "first-party" drops them for every third-party
    distribution, for code whose dependencies all never read their own (see the README's list
    of those that do; `keep_sources` keeps them for one distribution). "all" keeps them all."""
    layer_libraries: list[str] = Field(default_factory=list)
    """Shared libraries that a Lambda layer attached to the functions provides, by file name
    (`libpq.so.5`: that version) or library name (`libpq`: any version): `package` does not
    report a native extension or ctypes lookup that needs one of these, although neither the
    zip nor the runtime's image has it (see `bundle.native`)."""
    accept_models: dict[str, str] = Field(default_factory=dict)
    """Model library -> the version this service was checked against (or accepted despite
    breaking changes); `lambdapress package` refuses a locked version that differs from it
    and breaks the models (see lambdapress.bundle.models_gate)."""
    snapstart: bool = False
    """Lambda SnapStart for every function of the service (python3.12 and later): each
    published version is initialised once and restored from its snapshot instead of a cold
    start. A function's own `snapstart` in `[tool.lambdapress.functions.<handler>]` wins."""
    storage: StorageSettings = Field(default_factory=StorageSettings)
    """Where the service keeps its data: read by `lambdapress db`, the emulator and deploy."""
    iam: IamSettings = Field(default_factory=IamSettings)
    """Statements added to the service's execution role (see `deploy_settings`)."""
    functions: dict[str, FunctionDeploySettings] = Field(default_factory=dict)
    """Handler module -> its reserved/provisioned concurrency and warm-up schedule."""
    queues: dict[ResourceName, QueueSettings] = Field(default_factory=dict)
    """The service's SQS queues (`config.event_settings`): triggers and senders name them."""
    topics: dict[ResourceName, TopicSettings] = Field(default_factory=dict)
    """The service's SNS topics: its functions publish, any service's queues subscribe."""
    buses: dict[ResourceName, BusSettings] = Field(default_factory=dict)
    """The service's EventBridge buses (rules may also watch the account's default bus)."""
    buckets: dict[ResourceName, BucketSettings] = Field(default_factory=dict)
    """The service's S3 buckets: object events trigger functions, functions read and write."""
    secrets: dict[ResourceName, SecretSettings] = Field(default_factory=dict)
    """Secrets Manager secrets its functions read (`config.secret_settings`): names, not values."""
    parameters: dict[ResourceName, ParameterSettings] = Field(default_factory=dict)
    """SSM parameters its functions read, likewise."""

    @property
    def python_version(self) -> str:
        """The interpreter version of the runtime ("3.12"), for resolving wheels."""
        return RUNTIMES[self.runtime].python

    @field_validator("environment")
    @classmethod
    def _check_environment(cls, value: dict[str, str]) -> dict[str, str]:
        """Within Lambda's 4 KB as Lambda measures it.

        These are the service's own variables; `package` checks them again together with the
        ones the stack adds (`bundle.aws_names`).
        """
        problem = environment_size_problem(value)
        if problem is not None:
            raise ValueError(problem)
        return value

    @field_validator("functions")
    @classmethod
    def _check_functions(
        cls, value: dict[str, FunctionDeploySettings]
    ) -> dict[str, FunctionDeploySettings]:
        check_function_keys(value)
        return value

    @field_validator("include")
    @classmethod
    def _check_include(cls, value: list[str]) -> list[str]:
        for module in value:
            if not _MODULE.match(module):
                raise ValueError(f"{module!r} is not a dotted module name")
        return value

    @field_validator("keep_sources")
    @classmethod
    def _check_keep_sources(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _DISTRIBUTION.match(name):
                raise ValueError(f"{name!r} is not a distribution name")
        return value

    @field_validator("layer_libraries")
    @classmethod
    def _check_layer_libraries(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _LIBRARY.match(name):
                raise ValueError(
                    f"{name!r} is not a shared library's file name (such as libpq.so.5)"
                )
        return value

    @field_validator("allow_files")
    @classmethod
    def _check_allow_files(cls, value: list[str]) -> list[str]:
        for pattern in value:
            if not pattern.strip() or pattern.startswith("/") or ".." in pattern.split("/"):
                raise ValueError(f"{pattern!r} is not a relative path or glob inside the service")
        return value


def parse_service_settings(data: dict[str, Any], path: Path) -> ServiceSettings:
    """Validate the `[tool.lambdapress]` table of an already parsed pyproject.

    A missing table means "all defaults": a new service should not need boilerplate.
    """
    table = get_table(data, TABLE, path) or {}
    try:
        return ServiceSettings.model_validate(table)
    except ValidationError as exc:
        source = Source(path, tuple(TABLE.split(".")), table, fixes=_FIX, known=list(_FIX))
        raise config_error(exc, source, f"invalid [{TABLE}] settings") from None


def load_service_settings(pyproject_path: Path) -> ServiceSettings:
    """Read and validate the settings of the service whose pyproject.toml is given."""
    return parse_service_settings(load_toml(pyproject_path), pyproject_path)
