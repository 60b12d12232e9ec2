"""A worker's files as on Lambda: a read-only code folder and a /tmp of its own, of its size.

Where this machine allows mount namespaces (Linux, as root or with user namespaces) the kernel
enforces both; the Python-level fallback (`isolation="python"`) is tested on every machine.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path
from typing import Any

import pytest

from lambdapress.emulator._isolation import Isolation, probe
from lambdapress.emulator.core import Listeners, isolation_warnings
from lambdapress.model.application import Function

from .conftest import EmulatorFactory, Repo, entry_for

NAMESPACES = probe("auto")
needs_namespaces = pytest.mark.skipif(
    not NAMESPACES.namespaces, reason=f"no mount namespaces here: {NAMESPACES.reason}"
)
EROFS = "[Errno 30] Read-only file system"
ENOSPC = "[Errno 28] No space left on device"

# Each attempt returns what happened: "ok" or the OSError's text.
WRITER = """
import os
import pathlib
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def attempt(action):
    try:
        action()
    except OSError as error:
        return str(error).split(": '")[0]
    return "ok"


def code_folder(event, context):
    module = os.path.join(HERE, "writer.py")
    attempts = {
        "open w, relative": lambda: open("notes.txt", "w"),
        "open a, next to the module": lambda: open(os.path.join(HERE, "writer.py"), "a"),
        "open x, absolute": lambda: open(os.path.join(HERE, "new.json"), "x"),
        "open r+, the module": lambda: open(module, "r+"),
        "os.open O_CREAT": lambda: os.open("made.txt", os.O_CREAT | os.O_WRONLY),
        "pathlib write_text": lambda: pathlib.Path(HERE, "cache.txt").write_text("x"),
        "os.mkdir": lambda: os.mkdir("cache"),
        "os.remove the module": lambda: os.remove(module),
        "os.rename the module": lambda: os.rename(module, module + ".bak"),
        "os.chmod the module": lambda: os.chmod(module, 0o777),
        "tempfile in the code folder": lambda: tempfile.NamedTemporaryFile(dir=HERE),
    }
    results = {name: attempt(action) for name, action in attempts.items()}
    return {"attempts": results, "code folder": sorted(os.listdir(HERE))}


def tmp(event, context):
    name = event.get("name")
    if name:
        with open(os.path.join("/tmp", name), "w") as file:
            file.write(context.aws_request_id)
    time.sleep(event.get("sleep", 0))
    return {
        "listing": sorted(os.listdir("/tmp")),
        "gettempdir": tempfile.gettempdir(),
        "written": attempt(lambda: tempfile.NamedTemporaryFile().close()),
    }


def tmp_size(event, context):
    stat = os.statvfs("/tmp")
    return stat.f_blocks * stat.f_frsize // (1024 * 1024)


def fill_tmp(event, context):
    chunk = b"\\1" * (1024 * 1024)
    written = 0
    try:
        with open("/tmp/fill", "wb") as file:
            while written < (event["limit_mb"] + 64) * len(chunk):
                file.write(chunk)
                file.flush()
                written += len(chunk)
    except OSError as error:
        return {"written_mb": written // len(chunk), "error": str(error)}
    return {"written_mb": written // len(chunk), "error": None}
"""


@pytest.fixture
def writer(repo: Repo) -> Path:
    return repo.artifact("writer", {"writer.py": WRITER})


def function(repo: Repo, artifact: Path, handler: str, **options: Any) -> Function:
    entry = entry_for(repo.root, artifact, f"demo.{handler}", f"writer.{handler}", timeout=30)
    return entry.model_copy(update=options)


@pytest.mark.parametrize(
    "isolation",
    [pytest.param("auto", marks=needs_namespaces, id="namespaces"), "python"],
)
def test_writing_into_the_code_folder_fails_as_on_lambda(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory, isolation: str
) -> None:
    entry = function(repo, writer, "code_folder")
    emulator = make_emulator(
        repo.manifest(entry),
        repo.root,
        isolation=isolation,
        listeners=Listeners(on_warning=lambda _message: None),
    )

    result = emulator.invoke(entry.name, {})

    assert result.ok, result.logs
    attempts = result.response["attempts"]
    assert len(attempts) == 11 and attempts == dict.fromkeys(attempts, EROFS)
    assert result.response["code folder"] == ["writer.py"]  # nothing was made there


@needs_namespaces
def test_tmp_is_each_containers_own_and_outlives_invocations(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    on_the_host = Path("/tmp") / f"lambdapress-test-{uuid.uuid4().hex}"
    on_the_host.write_text("the host's")
    try:
        entry = function(repo, writer, "tmp")
        emulator = make_emulator(repo.manifest(entry), repo.root, concurrency=2)
        first = emulator.invoke(entry.name, {"name": "mine"}).response
        again = emulator.invoke(entry.name, {}).response  # the same warm container
    finally:
        on_the_host.unlink()

    assert on_the_host.name not in first["listing"]
    assert "mine" in first["listing"] and "mine" in again["listing"]
    assert first["gettempdir"] == "/tmp" and first["written"] == "ok"
    assert not (Path("/tmp") / "mine").exists()


@needs_namespaces
def test_two_containers_do_not_share_tmp(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    entry = function(repo, writer, "tmp")
    emulator = make_emulator(repo.manifest(entry), repo.root, concurrency=2)
    events = [{"name": "a", "sleep": 1.0}, {"name": "b", "sleep": 1.0}]
    with ThreadPoolExecutor(2) as pool:  # both at once, so each runs in a container of its own
        results = list(pool.map(lambda event: emulator.invoke(entry.name, event), events))

    assert len({result.worker_id for result in results}) == 2
    listings = [set(result.response["listing"]) for result in results]
    assert "a" in listings[0] and "b" not in listings[0]
    assert "b" in listings[1] and "a" not in listings[1]


@needs_namespaces
@pytest.mark.parametrize("size_mb", [512, 2048, 10240])
def test_tmp_has_the_functions_ephemeral_storage_size(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory, size_mb: int
) -> None:
    entry = function(repo, writer, "tmp_size", ephemeral_storage=size_mb)
    emulator = make_emulator(repo.manifest(entry), repo.root)
    assert emulator.invoke(entry.name, {}).response == size_mb


@needs_namespaces
def test_writing_more_than_the_ephemeral_storage_fails_as_on_lambda(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory
) -> None:
    """Lambda's smallest /tmp, 512 MB, filled for real (a tmpfs: memory, freed with the worker)."""
    entry = function(repo, writer, "fill_tmp", ephemeral_storage=512)
    emulator = make_emulator(repo.manifest(entry), repo.root)

    result = emulator.invoke(entry.name, {"limit_mb": 512})

    assert result.ok, result.logs
    assert result.response["error"] == ENOSPC
    assert 500 <= result.response["written_mb"] <= 512
    assert result.report.max_memory_used_mb < 128  # /tmp is not the function's memory


def test_without_namespaces_tmp_is_a_private_folder_and_the_emulator_says_what_is_missing(
    repo: Repo, writer: Path, make_emulator: EmulatorFactory
) -> None:
    warnings: list[str] = []
    entry = function(repo, writer, "tmp")
    emulator = make_emulator(
        repo.manifest(entry),
        repo.root,
        isolation="python",
        listeners=Listeners(on_warning=warnings.append),
    )

    first = emulator.invoke(entry.name, {}).response
    emulator.invoke(entry.name, {})
    private = Path(first["gettempdir"])

    assert private != Path("/tmp") and first["written"] == "ok"
    assert private.is_dir() and Path(emulator._workdir.name) in private.parents
    assert len(warnings) == 1  # once, not per worker or invocation
    assert "workers share this machine's /tmp and can write to their code folder" in warnings[0]
    assert "not limited to the function's ephemeral storage" in warnings[0]
    emulator.close()
    assert not private.exists()


@pytest.mark.parametrize(
    ("isolation", "platform", "expected"),
    [
        (Isolation("namespaces"), "linux", []),
        (Isolation("python", reason="user namespaces are off"), "linux", ["/tmp"]),
        (Isolation("python", reason="no mount namespaces"), "darwin", ["/tmp", "libraries"]),
    ],
)
def test_the_warnings_say_what_this_machine_cannot_reproduce(
    isolation: Isolation, platform: str, expected: list[str]
) -> None:
    messages = isolation_warnings(isolation, platform)
    assert len(messages) == len(expected)
    for message, word in zip(messages, expected, strict=True):
        assert word in message
    if isolation.reason:
        assert isolation.reason in messages[0]


def test_the_probe_names_why_namespaces_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    from lambdapress.emulator import _isolation as isolation

    monkeypatch.setattr(isolation, "_probed", {})
    monkeypatch.setattr(sys, "platform", "darwin")
    assert isolation.probe("auto") == Isolation("python", reason="darwin has no mount namespaces")
    assert isolation.probe("python").reason == "Python-level isolation was chosen explicitly"


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="mount namespaces are Linux's")
def test_a_refused_namespace_is_reported_with_the_kernels_reason(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The kernel's refusal is named (here: a /tmp that does not exist), not a traceback."""
    from lambdapress.emulator import _isolation as isolation

    monkeypatch.setattr(isolation, "_probed", {})
    monkeypatch.setattr(isolation, "TMP", tmp_path / "absent")
    found = isolation.probe("auto")
    assert found.method == "python" and found.reason is not None
    assert "was refused" in found.reason
    assert f"mounting a tmpfs on {tmp_path / 'absent'}: No such file or directory" in found.reason


def test_the_worker_boot_program_is_standard_library_only() -> None:
    """It runs inside the worker, which must see nothing of lambdapress."""
    from lambdapress.emulator import _worker_boot

    lines = [line.strip() for line in _worker_boot.source().splitlines()]
    imports = [line for line in lines if line.startswith(("import ", "from "))]
    assert "import os" in imports and not any("lambdapress" in line for line in imports)


def test_the_plan_keeps_outermost_folders_and_never_one_holding_tmp(tmp_path: Path) -> None:
    from lambdapress.emulator._isolation import TMP, plan_for

    code = tmp_path / "task"
    inner = code / "lib"
    inner.mkdir(parents=True)
    elsewhere = Path(__file__).parent
    plan = plan_for(Isolation("namespaces"), 1024, [Path("/"), code, inner, elsewhere], code)
    assert plan is not None
    assert set(plan.read_only) == {code.resolve(), elsewhere.resolve()}
    assert all(not TMP.resolve().is_relative_to(path) for path in plan.read_only)
    assert (plan.tmp_mb, plan.workdir) == (1024, code.resolve())
    assert plan_for(Isolation("python"), 1024, [code], code) is None
