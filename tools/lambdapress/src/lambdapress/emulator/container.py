"""What a container looks like from inside: its command line, environment and settings.

Lambda's Python runtime starts the runtime client with the task root first on `sys.path`; so
does `command()`, with `python -I -S -B` so nothing of the developer's environment (site-
packages, user site, PYTHON* variables) leaks in and no bytecode is written (Lambda's task root
is read-only). `environment()` is Lambda's set of reserved variables plus the function's own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from lambdapress.emulator.context import (
    FAKE_CREDENTIALS,
    FUNCTION_VERSION,
    lambda_name,
    log_group,
    log_stream,
)
from lambdapress.emulator.ric import RuntimeClient
from lambdapress.errors import EmulatorError
from lambdapress.lambda_platform import RESERVED_ENVIRONMENT
from lambdapress.manifest import FunctionEntry
from lambdapress.toolchain import Interpreter

_BOOT = (
    "import os, sys; "
    "sys.path[:0] = [os.environ['LAMBDA_TASK_ROOT'], os.environ['LAMBDA_RUNTIME_DIR']]; "
    "import runpy; runpy.run_module({module!r}, run_name='__main__', alter_sys=True)"
)


@dataclass(frozen=True)
class WorkerSpec:
    """Everything needed to start containers of one function."""

    entry: FunctionEntry
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

    def command(self) -> list[str]:
        """The worker's command line: the interpreter, isolated, running the runtime client."""
        boot = _BOOT.format(module=self.client.module)
        interpreter = str(self.interpreter.path)
        return [interpreter, "-I", "-S", "-B", "-c", boot, self.entry.handler]

    def environment(self, runtime_api: str, tmp: Path) -> dict[str, str]:
        """The worker's whole environment: nothing is inherited from the caller's."""
        entry = self.entry
        env = dict(entry.environment)
        env.update(self.storage)
        env.setdefault("LAMBDAPRESS_STRICT", "1")  # lambdapress_runtime: report leftovers loudly
        env.update(
            {
                "PATH": f"{self.interpreter.path.parent}:/usr/local/bin:/usr/bin:/bin",
                "LANG": "en_US.UTF-8",
                "TZ": ":UTC",
                "TMPDIR": str(tmp),
                "PYTHONDONTWRITEBYTECODE": "1",
                "LAMBDA_TASK_ROOT": str(self.task_root),
                "LAMBDA_RUNTIME_DIR": str(self.client.path),
                "_HANDLER": entry.handler,
                "AWS_EXECUTION_ENV": f"AWS_Lambda_{entry.runtime}",
                "AWS_LAMBDA_FUNCTION_NAME": lambda_name(entry.name),
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(entry.memory),
                "AWS_LAMBDA_FUNCTION_VERSION": FUNCTION_VERSION,
                "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
                "AWS_LAMBDA_LOG_GROUP_NAME": log_group(entry.name),
                "AWS_LAMBDA_LOG_STREAM_NAME": log_stream(),
                "AWS_LAMBDA_RUNTIME_API": runtime_api,
                "AWS_REGION": self.region,
                "AWS_DEFAULT_REGION": self.region,
                # Keep the developer's ~/.aws and the metadata service out of the container.
                "AWS_CONFIG_FILE": str(tmp / ".aws-config-absent"),
                "AWS_SHARED_CREDENTIALS_FILE": str(tmp / ".aws-credentials-absent"),
                "AWS_EC2_METADATA_DISABLED": "true",
                **FAKE_CREDENTIALS,
            }
        )
        return env


def check_environment(entry: FunctionEntry) -> None:
    """Lambda refuses functions that set its reserved variables: so does the emulator."""
    reserved = sorted(RESERVED_ENVIRONMENT & entry.environment.keys())
    if reserved:
        raise EmulatorError(
            f"{entry.name} sets reserved Lambda environment variables: {', '.join(reserved)}",
            hint="Lambda sets these itself and rejects functions that define them: remove them "
            "from [tool.lambdapress.environment] and rebuild",
        )
