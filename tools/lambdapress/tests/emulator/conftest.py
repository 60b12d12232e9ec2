"""Small artifacts built in tmp_path, a manifest for them, and emulators that always close.

Artifacts are real zips of plain stdlib handler modules (the bundler's real zips are exercised
by the example-platform end-to-end tests). awslambdaric is installed once per session into a
cache folder of the session's own (`runtime_cache`, in the tests' root conftest), shared by
every emulator the tests start.
"""

from __future__ import annotations

import base64
import hashlib
import sys
import textwrap
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from model_functions import model_function

from lambdapress.emulator import Emulator, Listeners, WorkerOptions
from lambdapress.model.application import Application, Function
from lambdapress.model.manifest import write_manifest
from lambdapress.storage.events import EventsEndpoint

RUNTIME = f"python3.{sys.version_info.minor}"

# One module with every behaviour the tests need; each function of the manifest points at one
# of its handlers. Only the standard library: the artifact is all a worker can import.
APP = """
import json
import logging
import os
import sys
import time

logger = logging.getLogger()
logger.setLevel(logging.INFO)
print("init: app imported")
BALLAST = []


def ok(event, context):
    return {"ok": True, "event": event, "pid": os.getpid()}


def logs(event, context):
    print("printed line")
    logger.info("logged line")
    return "done"


def raises(event, context):
    raise ValueError("boom: " + str(event.get("why", "no reason")))


def sleeps(event, context):
    time.sleep(event.get("seconds", 30))
    return "woke up"


def crashes(event, context):
    print("about to crash")
    os._exit(1)


def allocates(event, context):
    BALLAST.append(b"\x01" * (event.get("mb", 200) * 1024 * 1024))
    return "allocated"


def big(event, context):
    return "x" * (event.get("mb", 7) * 1024 * 1024)


def inspect(event, context):
    names = [
        "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
        "AWS_LAMBDA_FUNCTION_VERSION", "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
        "AWS_REGION", "AWS_DEFAULT_REGION", "LAMBDA_TASK_ROOT", "LAMBDA_RUNTIME_DIR", "_HANDLER",
        "TZ", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_EXECUTION_ENV", "_X_AMZN_TRACE_ID",
        "GREETING", "VIRTUAL_ENV", "LAMBDAPRESS_STRICT",
    ]
    return {
        "env": {name: os.environ.get(name) for name in names},
        "cwd": os.getcwd(),
        "path": sys.path,
        "flags": {
            "isolated": sys.flags.isolated, "no_site": sys.flags.no_site,
            "dont_write_bytecode": sys.flags.dont_write_bytecode,
        },
        "version": "%d.%d" % sys.version_info[:2],
        "context": {
            "function_name": context.function_name,
            "function_version": context.function_version,
            "memory_limit_in_mb": context.memory_limit_in_mb,
            "invoked_function_arn": context.invoked_function_arn,
            "aws_request_id": context.aws_request_id,
            "log_group_name": context.log_group_name,
            "remaining_ms": context.get_remaining_time_in_millis(),
            "client_context": getattr(context.client_context, "custom", None),
            "cognito_identity_id": context.identity.cognito_identity_id,
        },
    }


def http_echo(event, context):
    return {
        "statusCode": 200,
        "headers": {"content-type": "application/json", "x-handled-by": "http_echo"},
        "cookies": ["session=abc; Path=/", "theme=dark"],
        "body": json.dumps(event),
    }


def http_binary(event, context):
    import base64
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/octet-stream"},
        "body": base64.b64encode(bytes(range(256))).decode(),
        "isBase64Encoded": True,
    }


def http_slow(event, context):
    query = event.get("queryStringParameters") or {}
    time.sleep(float(query.get("seconds", "0.05")))
    return {"statusCode": 200, "body": str(os.getpid())}


def http_respond(event, context):
    # Answers with the response the request's body spells out (tests of response rules).
    body = event.get("body") or "null"
    if event.get("isBase64Encoded"):
        import base64
        body = base64.b64decode(body).decode()
    return json.loads(body)


def http_plain(event, context):
    return {"message": "no statusCode here"}


def http_malformed(event, context):
    return {"statusCode": "teapot", "body": 42}
"""

MISSING_IMPORT = """
import pydantic  # installed in the developer's environment, not in this zip


def handler(event, context):
    return "unreachable"
"""


def write_zip(folder: Path, destination: Path) -> Path:
    """Zip `folder` with sorted entries and fixed timestamps, like the bundler."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(destination, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), (1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, path.read_bytes())
    return destination


def entry_for(
    root: Path,
    artifact: Path,
    name: str,
    handler: str,
    *,
    routes: tuple[tuple[str, str], ...] = (),
    memory: int = 128,
    timeout: int = 3,
    environment: dict[str, str] | None = None,
    runtime: str = RUNTIME,
) -> Function:
    data = artifact.read_bytes()
    digest = hashlib.sha256(data)
    return model_function(
        name,
        handler=handler,
        routes=routes,
        artifact=artifact.relative_to(root).as_posix(),
        sha256=digest.hexdigest(),
        code_sha256=base64.b64encode(digest.digest()).decode(),
        size=len(data),
        inputs_hash=digest.hexdigest()[:16],
        runtime=runtime,
        architecture="arm64" if _machine() == "arm64" else "x86_64",
        memory=memory,
        timeout=timeout,
        environment=environment or {},
    )


def _machine() -> str:
    import platform

    return "arm64" if platform.machine().lower() in ("arm64", "aarch64") else "x86_64"


class Repo:
    """A fake repository root with dist/ artifacts and a manifest."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.app_zip = self.artifact("app", {"app.py": APP})
        self.broken_zip = self.artifact("broken", {"broken.py": MISSING_IMPORT})

    def artifact(self, name: str, files: dict[str, str]) -> Path:
        source = self.root / "build" / name
        for relative, text in files.items():
            path = source / relative
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
        return write_zip(source, self.root / "dist" / "demo" / f"{name}.zip")

    def app(self, handler: str, **options: Any) -> Function:
        return entry_for(self.root, self.app_zip, f"demo.{handler}", f"app.{handler}", **options)

    def manifest(self, *entries: Function) -> Application:
        return Application(functions=tuple(sorted(entries, key=lambda e: e.name)))

    def standard(self) -> Application:
        """Every app handler as a function (HTTP ones routed), plus the broken import."""
        entries = [
            self.app("ok"),
            self.app("logs"),
            self.app("raises"),
            self.app("sleeps", timeout=1),
            self.app("crashes"),
            self.app("allocates", memory=128),
            self.app("big"),
            self.app("inspect", environment={"GREETING": "hello"}),
            self.app(
                "http_echo",
                routes=(
                    ("GET", "/items/{item_id}"),
                    ("POST", "/items/{item_id}"),
                    ("ANY", "/files/{path+}"),
                ),
            ),
            self.app("http_binary", routes=(("POST", "/binary"),)),
            self.app("http_plain", routes=(("GET", "/plain"),)),
            self.app("http_respond", routes=(("POST", "/respond"),)),
            self.app("http_malformed", routes=(("GET", "/malformed"),)),
            self.app("raises", routes=(("GET", "/fail"),)).model_copy(
                update={"name": "demo.http_fail"}
            ),
            self.app("http_slow", routes=(("GET", "/slow"),)),
            entry_for(self.root, self.broken_zip, "demo.broken", "broken.handler"),
        ]
        return self.manifest(*entries)

    def write(self, manifest: Application) -> Path:
        path = self.root / "dist" / "manifest.json"
        write_manifest(manifest, path)
        (self.root / "pyproject.toml").write_text(
            '[tool.uv.workspace]\nmembers = ["services/*"]\n', encoding="utf-8"
        )
        return path


@pytest.fixture
def repo(tmp_path: Path) -> Repo:
    return Repo(tmp_path / "repo")


@pytest.fixture(scope="module")
def module_repo(tmp_path_factory: pytest.TempPathFactory) -> Repo:
    return Repo(tmp_path_factory.mktemp("module") / "repo")


EmulatorFactory = Callable[..., Emulator]


@pytest.fixture
def make_emulator(runtime_cache: Path) -> Iterator[EmulatorFactory]:
    """`make_emulator(manifest, root, listeners=..., events=..., **workers)`: an Emulator closed
    after the test, whose threads are all gone by then; `workers` are `WorkerOptions` fields (2
    workers per function unless `concurrency` says otherwise)."""
    started: list[Emulator] = []

    def make(
        manifest: Application,
        root: Path,
        *,
        listeners: Listeners | None = None,
        events: EventsEndpoint | None = None,
        storage: dict[str, dict[str, str]] | None = None,
        **workers: Any,
    ) -> Emulator:
        emulator = Emulator(
            manifest,
            root,
            workers=WorkerOptions(**{"concurrency": 2, **workers}),
            listeners=listeners or Listeners(),
            cache_dir=runtime_cache,
            events=events,
            storage=storage,
        )
        started.append(emulator)
        return emulator

    yield make
    for emulator in started:
        names = emulator_thread_names(emulator)
        emulator.close()
        leftover = [t.name for t in threading.enumerate() if t.name in names]
        assert leftover == [], f"threads left running after close: {leftover}"


def emulator_thread_names(emulator: Emulator) -> set[str]:
    """The names of every thread this emulator (its janitor, workers, servers) may start."""
    names = {emulator.janitor_name}
    for stats in emulator.stats():
        for worker in stats.reuse:
            names |= {f"runtime-api-{worker}", f"runtime-api-{worker}-request", f"output-{worker}"}
    return names


@pytest.fixture(scope="module")
def shared_emulator(module_repo: Repo, runtime_cache: Path) -> Iterator[Emulator]:
    """One emulator for a module's read-only tests (warm workers make them fast)."""
    manifest = module_repo.standard()
    workers = WorkerOptions(concurrency=8)
    with Emulator(manifest, module_repo.root, workers=workers, cache_dir=runtime_cache) as emulator:
        yield emulator
