"""AWS Lambda's facts, once: its Python runtimes, architectures, reserved variables and limits.

Every module that needs one of these (settings validation, wheel targets, the emulator, the
benchmark, the size checks) reads it from here, so a new runtime or a changed limit is one edit;
`copier.yml`'s choices and validators are tested against the same tables.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Annotated, Final, Literal, get_args

from pydantic import Field

Runtime = Literal["python3.11", "python3.12", "python3.13"]
PythonVersion = Literal["3.11", "3.12", "3.13"]
Architecture = Literal["x86_64", "arm64"]


@dataclass(frozen=True)
class RuntimeFacts:
    """What one Lambda Python runtime runs on: the interpreter and the Linux under it."""

    python: PythonVersion
    amazon_linux: str
    manylinux: str
    """The newest manylinux tag its glibc accepts: uv's `--python-platform` suffix."""
    glibc_minor: int
    """The newest `manylinux_2_<minor>` tag its glibc accepts (2.26 accepts up to 2_17 wheels
    by policy: manylinux2014 is glibc 2.17)."""


# python3.11 runs on Amazon Linux 2 (glibc 2.26): manylinux2014 (glibc 2.17) is the newest tag
# wheels for it are built against. python3.12 and later run on Amazon Linux 2023 (glibc 2.34).
RUNTIMES: Final[dict[Runtime, RuntimeFacts]] = {
    "python3.11": RuntimeFacts("3.11", "Amazon Linux 2", "manylinux2014", 17),
    "python3.12": RuntimeFacts("3.12", "Amazon Linux 2023", "manylinux_2_34", 34),
    "python3.13": RuntimeFacts("3.13", "Amazon Linux 2023", "manylinux_2_34", 34),
}
DEFAULT_RUNTIME: Final[Runtime] = "python3.12"


def runtime_of(python: str) -> Runtime:
    """The runtime name of an interpreter version: `python3.12` for `3.12`."""
    for name, facts in RUNTIMES.items():
        if facts.python == python:
            return name
    raise KeyError(python)


@dataclass(frozen=True)
class ArchitectureFacts:
    """One Lambda architecture under the names each tool gives it."""

    wheel: str
    """The machine in wheel tags and PEP 508's `platform_machine`: `aarch64` for arm64."""
    machines: frozenset[str]
    """What `platform.machine()` says on a computer of this architecture (lowercased)."""


ARCHITECTURES: Final[dict[Architecture, ArchitectureFacts]] = {
    "x86_64": ArchitectureFacts("x86_64", frozenset({"x86_64", "amd64"})),
    "arm64": ArchitectureFacts("aarch64", frozenset({"aarch64", "arm64"})),
}
DEFAULT_ARCHITECTURE: Final[Architecture] = "x86_64"


def architecture_of_machine(machine: str) -> Architecture | None:
    """The Lambda architecture of a `platform.machine()` value, or None (no Lambda runs it)."""
    lowered = machine.lower()
    for name, facts in ARCHITECTURES.items():
        if lowered in facts.machines:
            return name
    return None


# Keys the Lambda runtime sets itself and refuses in a function's configuration, from the
# "Defined runtime environment variables" list of the Lambda developer guide. Not every
# AWS_LAMBDA_* name is reserved: AWS_LAMBDA_EXEC_WRAPPER, for one, is documented as settable,
# so this is an explicit list rather than a prefix rule.
RESERVED_ENVIRONMENT: Final = frozenset(
    {
        "_HANDLER",
        "_X_AMZN_TRACE_ID",
        "AWS_DEFAULT_REGION",
        "AWS_REGION",
        "AWS_EXECUTION_ENV",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION",
        "AWS_LAMBDA_INITIALIZATION_TYPE",
        "AWS_LAMBDA_LOG_GROUP_NAME",
        "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_ACCESS_KEY",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_LAMBDA_RUNTIME_API",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "TZ",
    }
)
# The key pattern of the Lambda API's `Environment.Variables`: a letter, then at least one
# letter, digit or underscore.
ENVIRONMENT_NAME_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_]+$"

_MIB = 1024 * 1024
# Lambda's quotas (developer guide, "Lambda quotas"); none of them can be raised.
DIRECT_UPLOAD_ZIPPED_MAX_BYTES: Final = 50 * _MIB
"""A deployment package uploaded directly to Lambda (zipped): "50 MB (zipped, when uploaded
through the Lambda API or SDKs). Upload larger files with Amazon S3." lambdapress never uploads
directly: the template's `Code` and `sync`'s `UpdateFunctionCode` name an S3 object, so this
limit does not apply to its zips (`UNZIPPED_MAX_BYTES` does)."""
UNZIPPED_MAX_BYTES: Final = 250 * _MIB
"""A deployment package unzipped, layers included ("250 MB (unzipped)"), however it is
uploaded."""
MEMORY_MIN_MB: Final = 128
MEMORY_MAX_MB: Final = 10240
TIMEOUT_MIN_SECONDS: Final = 1
TIMEOUT_MAX_SECONDS: Final = 900
EPHEMERAL_STORAGE_MIN_MB: Final = 512
EPHEMERAL_STORAGE_MAX_MB: Final = 10240
"""A container's /tmp (`EphemeralStorage.Size`); `EPHEMERAL_STORAGE_MIN_MB` when not set."""
EPHEMERAL_STORAGE_DEFAULT_MB: Final = EPHEMERAL_STORAGE_MIN_MB
MemoryMB = Annotated[int, Field(ge=MEMORY_MIN_MB, le=MEMORY_MAX_MB)]
"""A function's memory, as Lambda accepts it (the settings' and the model's field)."""
TimeoutSeconds = Annotated[int, Field(ge=TIMEOUT_MIN_SECONDS, le=TIMEOUT_MAX_SECONDS)]
"""A function's timeout, as Lambda accepts it."""
EphemeralStorageMB = Annotated[int, Field(ge=EPHEMERAL_STORAGE_MIN_MB, le=EPHEMERAL_STORAGE_MAX_MB)]
"""A function's /tmp, as Lambda accepts it."""
ENVIRONMENT_MAX_BYTES: Final = 4096
"""All of a function's variables, keys and values, together."""
REQUEST_MAX_BYTES: Final = 6 * _MIB
"""A synchronous invocation's payload."""
RESPONSE_MAX_BYTES: Final = 6 * _MIB + 100
"""A synchronous response: Lambda lets a few bytes past 6 MB through before it refuses."""
EVENT_MAX_BYTES: Final = 256 * 1024
"""An asynchronous (Event) invocation's payload."""

# SnapStart ("Improving startup performance with Lambda SnapStart", supported features and
# limitations): Python from 3.12 on; not together with provisioned concurrency, Amazon EFS or
# more than 512 MB of ephemeral storage; zip packages only (lambdapress builds zips, mounts no
# EFS). Both architectures are supported.
SNAPSTART_RUNTIMES: Final[frozenset[Runtime]] = frozenset({"python3.12", "python3.13"})
SNAPSTART_EPHEMERAL_STORAGE_MAX_MB: Final = 512

RUNTIME_NAMES: Final[tuple[Runtime, ...]] = get_args(Runtime)
ARCHITECTURE_NAMES: Final[tuple[Architecture, ...]] = get_args(Architecture)


# The dynamic loader every ELF object may name, per architecture; always present.
_DYNAMIC_LOADERS: Final = frozenset(
    {"ld-linux-x86-64.so.2", "ld-linux-aarch64.so.1", "linux-vdso.so.1", "linux-gate.so.1"}
)


@dataclass(frozen=True)
class RuntimeLibraries:
    """The shared libraries one Lambda Python runtime image provides, by soname.

    A shipped native extension (its ELF `DT_NEEDED` entries) or a ctypes lookup may load these
    without carrying them; anything else must be in the zip or in a declared layer, or the
    function fails on Lambda while it works on a developer's machine that has the library.
    """

    runtime: Runtime
    policy: str
    """The manylinux policy (auditwheel's name) the list starts from."""
    sonames: frozenset[str]
    sources: dict[str, str]
    """Where each part of the list comes from: the data file's own `sources`."""

    def provides(self, soname: str) -> bool:
        """Whether a library of this name is in the runtime's image (or is the loader)."""
        return soname in self.sonames or soname in _DYNAMIC_LOADERS


@cache
def runtime_libraries(runtime: Runtime) -> RuntimeLibraries:
    """The libraries `runtime`'s image provides, from `data/runtime_libraries.json`."""
    path = resources.files("lambdapress.config").joinpath("data", "runtime_libraries.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    entry = data["runtimes"][runtime]
    sonames = frozenset(name for group in entry["libraries"].values() for name in group)
    return RuntimeLibraries(runtime, entry["policy"], sonames, dict(data["sources"]))
