"""What a container looks like from inside: its command line, environment, files and settings.

Lambda's Python runtime starts the runtime client with the task root first on `sys.path`; so
does `command()`, with `python -I -S -B` so nothing of the developer's environment (site-
packages, user site, PYTHON* variables) leaks in and no bytecode is written (Lambda's task root
is read-only). Before the runtime client starts, `worker_boot` puts the host's shared libraries
that Lambda's image lacks out of reach. `environment()` is Lambda's set of reserved variables
plus the function's own. `mounts` is the worker's view of the file system (`isolation`): a
read-only task root and a private `/tmp` of the function's ephemeral storage size.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from lambdapress.config.lambda_platform import RESERVED_ENVIRONMENT, runtime_libraries
from lambdapress.emulator import _worker_boot
from lambdapress.emulator._isolation import TMP, Isolation, MountPlan, plan_for
from lambdapress.emulator._ric import RuntimeClient
from lambdapress.emulator.context import (
    FAKE_CREDENTIALS,
    FUNCTION_VERSION,
    lambda_name,
    log_group,
    log_stream,
)
from lambdapress.errors import EmulatorError
from lambdapress.model.application import Function
from lambdapress.support.loopback import NO_METADATA_SERVICE
from lambdapress.support.toolchain import Interpreter

_START = (
    "\nboot({config!r})\n"
    "sys.path[:0] = [os.environ['LAMBDA_TASK_ROOT'], os.environ['LAMBDA_RUNTIME_DIR']]\n"
    "import runpy\n"
    "runpy.run_module({module!r}, run_name='__main__', alter_sys=True)\n"
)
PYTHON_ISOLATION = Isolation("python", reason="Python-level isolation was chosen explicitly")


@dataclass(frozen=True)
class WorkerSpec:
    """Everything needed to start containers of one function."""

    entry: Function
    task_root: Path
    interpreter: Interpreter
    client: RuntimeClient
    scratch: Path
    """A folder for each worker's private temporary directory (Lambda's /tmp)."""
    region: str
    init_timeout: float = 10.0
    storage: Mapping[str, str] = field(default_factory=dict)
    """Where the service's data lives (DATABASE_URL, AWS_ENDPOINT_URL_DYNAMODB, TABLE names):
    from `lambdapress db`, like the settings deploy gives the function on Lambda."""
    isolation: Isolation = PYTHON_ISOLATION
    """How this machine isolates the worker's files (see `isolation.probe`)."""
    layer_libraries: tuple[str, ...] = ()
    """Libraries a layer of the function provides (`libpq.so.5`, or `libpq`: any version):
    loaded from this machine, since the emulator has no layers."""
    boot_source: str = field(default_factory=_worker_boot.source, repr=False)

    def command(self) -> list[str]:
        """The worker's command line: the interpreter, isolated, running the runtime client."""
        start = _START.format(config=self.boot_config(), module=self.client.module)
        interpreter = str(self.interpreter.path)
        return [interpreter, "-I", "-S", "-B", "-c", self.boot_source + start, self.entry.handler]

    def boot_config(self) -> dict[str, object]:
        """What `worker_boot.boot` guards: Lambda's libraries, the shipped folders."""
        shipped = [str(self.task_root), str(self.client.path)]
        return {
            "libraries": sorted(runtime_libraries(self.entry.runtime).sonames),
            "layer_libraries": list(self.layer_libraries),
            "shipped": shipped,
            "library_dirs": self.library_dirs(),
            "read_only": [] if self.isolation.namespaces else shipped,
            "guard_libraries": sys.platform.startswith("linux"),
        }

    def library_dirs(self) -> list[str]:
        """Where the worker's shipped libraries are: Lambda's LD_LIBRARY_PATH folders.

        On Lambda those are `/var/runtime`, `/var/runtime/lib`, `/var/task`, `/var/task/lib`
        (after the image's own).
        """
        runtime, task = self.client.path, self.task_root
        return [str(runtime), str(runtime / "lib"), str(task), str(task / "lib")]

    @cached_property
    def mounts(self) -> MountPlan | None:
        """The worker's mount namespace: None when this machine isolates with Python only.

        The task root and the runtime client are read-only, as on Lambda; so is the
        interpreter's folder when it lies under /tmp (it must stay visible there).
        """
        path = self.interpreter.path
        prefixes = [path.parent.parent, path.resolve().parent.parent]
        tmp = TMP.resolve()
        hidden = [prefix for prefix in prefixes if prefix.resolve().is_relative_to(tmp)]
        read_only = [self.task_root, self.client.path, *hidden]
        return plan_for(self.isolation, self.entry.ephemeral_storage, read_only, self.task_root)

    def environment(self, runtime_api: str, tmp: Path) -> dict[str, str]:
        """The worker's whole environment: nothing is inherited from the caller's.

        `tmp` is the worker's private temporary folder, used (as TMPDIR) only when the worker
        has no private `/tmp` of its own.
        """
        entry = self.entry
        env = dict(entry.environment)
        env.update(self.storage)
        env.setdefault("LAMBDAPRESS_STRICT", "1")  # lambdapress_runtime: report leftovers loudly
        if not self.isolation.namespaces:
            env["TMPDIR"] = str(tmp)
        # Lambda's default, unless the function sets its own (it may).
        env.setdefault("LD_LIBRARY_PATH", ":".join(self.library_dirs()))
        env.update(
            {
                "PATH": f"{self.interpreter.path.parent}:/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "PYTHONDONTWRITEBYTECODE": "1",
                "LAMBDA_TASK_ROOT": str(self.task_root),
                "LAMBDA_RUNTIME_DIR": str(self.client.path),
                "_HANDLER": entry.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{entry.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": lambda_name(entry.name),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(entry.memory),
                "AWS_LAMBDA_FUNCTION_VERSION": FUNCTION_VERSION,
                # "snap-start" makes awslambdaric run the SnapStart hooks after init: before
                # the snapshot, then (`/restore/next`, answered at once) after the restore.
                "AWS_LAMBDA_INITIALIZATION_TYPE": (
                    "snap-start" if entry.capacity.snapstart else "on-demand"
                ),
                "AWS_LAMBDA_LOG_GROUP_NAME": log_group(entry.name),
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream(),
                "AWS_LAMBDA_RUNTIME_API": runtime_api,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                # Keep the developer's ~/.aws and the metadata service out of the container.
                "AWS_CONFIG_FILE": str(tmp / ".aws-config-absent"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp / ".aws-credentials-absent"),
                **NO_METADATA_SERVICE,
                **FAKE_CREDENTIALS,
            }
        )
        return env


def check_environment(entry: Function) -> None:
    """Lambda refuses functions that set its reserved variables: so does the emulator."""
    reserved = sorted(RESERVED_ENVIRONMENT & entry.environment.keys())
    if reserved:
        raise EmulatorError(
            f"{entry.name} sets reserved Lambda environment variables: {', '.join(reserved)}",
            hint="Lambda sets these itself and rejects functions that define them: remove them "
            "from [tool.lambdapress.environment] and rebuild",
        )
