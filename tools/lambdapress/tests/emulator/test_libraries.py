"""Host libraries that Lambda's runtime lacks are out of a worker's reach, as on Lambda.

The host has libpq (PostgreSQL's client library, which the CI image installs with the server);
Lambda's Python runtimes do not. A ctypes load of it fails with the loader's own words, and a
driver that would fall back to it (psycopg without `psycopg_binary`) fails at import, in the
first local run instead of in the cloud.
"""

from __future__ import annotations

import ctypes.util
import importlib.util
import shutil
import sys
from pathlib import Path

import pytest

from lambdapress.cli import main
from lambdapress.config.lambda_platform import runtime_libraries
from lambdapress.emulator.reports import FunctionError, failure_hint
from lambdapress.model.application import Function

from .conftest import RUNTIME, EmulatorFactory, Repo, entry_for, write_zip

HOST_LIBPQ = ctypes.util.find_library("pq")
needs_host_libpq = pytest.mark.skipif(
    HOST_LIBPQ is None or not sys.platform.startswith("linux"),
    reason="the point is a host that has libpq (Linux; apt-get install libpq5)",
)
MISSING = "libpq.so.5: cannot open shared object file: No such file or directory"

LOADER = """
import ctypes
import ctypes.util
import os


def attempt(action):
    try:
        return {"ok": repr(action())}
    except (OSError, AttributeError) as error:
        return {"error": f"{type(error).__name__}: {error}"}


def handler(event, context):
    name = event["name"]
    if event["how"] == "find_library":
        return {"ok": ctypes.util.find_library(name)}
    if event["how"] == "CDLL":
        return attempt(lambda: ctypes.CDLL(name))
    if event["how"] == "LoadLibrary":
        return attempt(lambda: ctypes.cdll.LoadLibrary(name))
    if event["how"] == "CDLL(find_library)":
        return attempt(lambda: ctypes.CDLL(ctypes.util.find_library(name)).PQlibVersion())
    raise ValueError(event["how"])
"""


@pytest.fixture
def loader(repo: Repo) -> Function:
    artifact = repo.artifact("loader", {"loader.py": LOADER})
    return entry_for(repo.root, artifact, "demo.loader", "loader.handler")


@needs_host_libpq
@pytest.mark.parametrize(
    ("how", "name", "outcome", "text"),
    [
        ("find_library", "pq", "ok", None),  # Lambda's ldconfig cache has no libpq
        ("CDLL", "libpq.so.5", "error", f"OSError: {MISSING}"),
        ("LoadLibrary", "libpq.so.5", "error", f"OSError: {MISSING}"),
        ("CDLL", "libpq.so", "error", f"OSError: {MISSING.replace('.so.5', '.so')}"),
        # find_library answers None, and CDLL(None) is the program itself: no such symbol.
        ("CDLL(find_library)", "pq", "error", "undefined symbol: PQlibVersion"),
        # What the runtime's image has is there.
        ("find_library", "c", "ok", "libc.so.6"),
        ("CDLL", "libc.so.6", "ok", "<CDLL 'libc.so.6', handle"),
        ("LoadLibrary", "libz.so.1", "ok", "<CDLL 'libz.so.1', handle"),
    ],
)
def test_a_library_lambda_lacks_cannot_be_loaded_one_it_has_can(
    repo: Repo,
    loader: Function,
    make_emulator: EmulatorFactory,
    how: str,
    name: str,
    outcome: str,
    text: str | None,
) -> None:
    emulator = make_emulator(repo.manifest(loader), repo.root)

    result = emulator.invoke(loader.name, {"how": how, "name": name})

    assert result.ok, result.logs
    if how == "find_library":
        assert result.response == {outcome: text}
    else:
        [(got, said)] = result.response.items()
        assert got == outcome and text is not None and text in said, said


@needs_host_libpq
def test_an_absolute_path_to_the_hosts_library_fails_with_that_path(
    repo: Repo, loader: Function, make_emulator: EmulatorFactory
) -> None:
    host_path = next(
        line.split(" => ")[1]
        for line in _ldconfig().splitlines()
        if "libpq.so.5 " in line and " => " in line
    )
    emulator = make_emulator(repo.manifest(loader), repo.root)
    result = emulator.invoke(loader.name, {"how": "CDLL", "name": host_path})
    error = f"OSError: {host_path}: cannot open shared object file: No such file or directory"
    assert result.response == {"error": error}


@needs_host_libpq
def test_a_library_shipped_in_the_zip_loads_by_name_and_by_path(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    """lib/ of the zip is on Lambda's LD_LIBRARY_PATH; shipping the library is the fix."""
    folder = repo.root / "build" / "shipped"
    (folder / "lib").mkdir(parents=True)
    (folder / "loader.py").write_text(LOADER, encoding="utf-8")
    host_path = next(
        line.split(" => ")[1] for line in _ldconfig().splitlines() if "libpq.so.5 " in line
    )
    shutil.copyfile(host_path, folder / "lib" / "libpq.so.5")
    artifact = write_zip(folder, repo.root / "dist" / "demo" / "shipped.zip")
    entry = entry_for(repo.root, artifact, "demo.shipped", "loader.handler")
    emulator = make_emulator(repo.manifest(entry), repo.root)

    by_name = emulator.invoke(entry.name, {"how": "CDLL", "name": "libpq.so.5"})
    by_path = emulator.invoke(entry.name, {"how": "CDLL", "name": "lib/libpq.so.5"})

    assert by_name.response["ok"].startswith("<CDLL 'libpq.so.5', handle"), by_name.logs
    assert by_path.response["ok"].startswith("<CDLL 'lib/libpq.so.5', handle"), by_path.logs


def _ldconfig() -> str:
    import subprocess

    found = shutil.which("ldconfig") or "/sbin/ldconfig"
    return subprocess.run([found, "-p"], capture_output=True, text=True, check=True).stdout


# -- psycopg: the driver that falls back to the host's libpq ---------------------------------
def _installed(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        pytest.skip(f"{name} is not installed here (the example services' dev group has it)")
    return Path(next(iter(spec.submodule_search_locations)))


PSYCOPG_HANDLER = """
import psycopg


def handler(event, context):
    return psycopg.pq.__impl__
"""


def psycopg_zip(repo: Repo, name: str, *, binary: bool) -> Path:
    """A zip with psycopg from this environment, with or without its binary implementation."""
    folder = repo.root / "build" / name
    folder.mkdir(parents=True)
    (folder / "db.py").write_text(PSYCOPG_HANDLER, encoding="utf-8")
    shutil.copytree(_installed("psycopg"), folder / "psycopg")
    typing_extensions = importlib.util.find_spec("typing_extensions")
    if typing_extensions is not None and typing_extensions.origin is not None:
        shutil.copyfile(typing_extensions.origin, folder / "typing_extensions.py")
    if binary:
        package = _installed("psycopg_binary")
        shutil.copytree(package, folder / "psycopg_binary")
        libs = package.parent / "psycopg_binary.libs"
        if libs.is_dir():
            shutil.copytree(libs, folder / "psycopg_binary.libs")
    return write_zip(folder, repo.root / "dist" / "demo" / f"{name}.zip")


@needs_host_libpq
@pytest.mark.parametrize(
    ("environment", "says"),
    [
        # What psycopg tries by itself: c, binary, then python over ctypes (the host's libpq).
        ({}, "couldn't import psycopg 'python' implementation: libpq library not found"),
        # What the bundler sets for a psycopg[binary] service.
        (
            {"PSYCOPG_IMPL": "binary"},
            "couldn't import requested psycopg 'binary' implementation: "
            "No module named 'psycopg_binary'",
        ),
        ({"PSYCOPG_IMPL": "python"}, "libpq library not found"),
    ],
)
def test_psycopg_without_its_binary_fails_at_import_as_on_lambda(
    repo: Repo, make_emulator: EmulatorFactory, environment: dict[str, str], says: str
) -> None:
    artifact = psycopg_zip(repo, "db", binary=False)
    entry = entry_for(repo.root, artifact, "demo.db", "db.handler", environment=environment)
    emulator = make_emulator(repo.manifest(entry), repo.root)

    result = emulator.invoke(entry.name, {})

    assert result.error is not None, "psycopg used this machine's libpq"
    assert result.error.error_type == "Runtime.ImportModuleError"
    assert says in result.error.message
    assert result.hint is not None and "psycopg[binary]" in result.hint


@needs_host_libpq
def test_psycopg_with_its_binary_implementation_runs(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    """The binary wheel loads its own libpq (bundled, found by the loader, not by ctypes)."""
    artifact = psycopg_zip(repo, "db_binary", binary=True)
    environment = {"PSYCOPG_IMPL": "binary"}
    entry = entry_for(repo.root, artifact, "demo.db", "db.handler", environment=environment)
    emulator = make_emulator(repo.manifest(entry), repo.root)

    result = emulator.invoke(entry.name, {})

    assert result.ok, result.logs
    assert result.response == "binary"


@needs_host_libpq
def test_invoke_says_how_to_fix_a_missing_implementation(
    repo: Repo,
    runtime_cache: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    artifact = psycopg_zip(repo, "db", binary=False)
    repo.write(repo.manifest(entry_for(repo.root, artifact, "demo.db", "db.handler")))
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(runtime_cache))

    assert main(["invoke", "demo.db", "--root", str(repo.root)]) == 1

    err = capsys.readouterr().err.splitlines()
    assert err[-2].startswith("error: demo.db failed (Runtime.ImportModuleError: Unable to import")
    assert err[-1].startswith("  fix: psycopg found none of its implementations in the zip")


@pytest.mark.parametrize(
    ("message", "hint"),
    [
        ("Unable to import module 'app': No module named 'pydantic'", "no module 'pydantic'"),
        ("Unable to import module 'app': No module named 'yaml._yaml'", "no module 'yaml._yaml'"),
        (
            "libgeos_c.so.1: cannot open shared object file: No such file or directory",
            "shared library",
        ),
        ("Unable to import module 'x': no pq wrapper available.\n- psycopg ...", "psycopg[binary]"),
        ("division by zero", None),
    ],
)
def test_failures_that_say_the_zip_lacks_something_get_a_hint(
    message: str, hint: str | None
) -> None:
    found = failure_hint(FunctionError("Runtime.ImportModuleError", message))
    assert (found is None) if hint is None else (found is not None and hint in found)


def test_the_worker_is_given_the_runtimes_own_library_list(repo: Repo, loader: Function) -> None:
    """The list is lambda_platform's data for the function's runtime, not a copy."""
    from lambdapress.emulator._container import WorkerSpec
    from lambdapress.emulator._isolation import Isolation
    from lambdapress.emulator._ric import RuntimeClient
    from lambdapress.support.toolchain import Interpreter

    for runtime in ("python3.11", "python3.12", RUNTIME):
        spec = WorkerSpec(
            entry=loader.model_copy(update={"runtime": runtime}),
            task_root=repo.root / "task",
            interpreter=Interpreter(Path(sys.executable), "3.12.0", "x86_64"),
            client=RuntimeClient("awslambdaric", repo.root / "runtime", "awslambdaric"),
            scratch=repo.root / "scratch",
            region="us-east-1",
            isolation=Isolation("namespaces"),
        )
        config = spec.boot_config()
        assert config["libraries"] == sorted(runtime_libraries(runtime).sonames)
        assert config["read_only"] == []  # the kernel makes the code folder read-only
        assert "boot(" in spec.command()[-2] and spec.command()[-1] == loader.handler


# -- the guard's rules, run in a bare interpreter (no emulator) -------------------------------
def _guarded(config: dict[str, object], code: str) -> str:
    """Run `code` after `worker_boot.boot(config)` in an isolated interpreter; its stdout."""
    import subprocess

    from lambdapress.emulator import _worker_boot

    program = f"{_worker_boot.source()}\nboot({config!r})\n{code}"
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", program], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


CHECK = """
import ctypes, ctypes.util
try:
    ctypes.CDLL("libpq.so.5")
    loaded = "loaded"
except OSError as error:
    loaded = str(error)
print(ctypes.util.find_library("pq"), loaded, sep="|")
"""


@needs_host_libpq
@pytest.mark.parametrize(
    ("layers", "allowed"),
    [
        ([], False),
        (["libpq"], True),  # a library name: any version
        (["libpq.so.5"], True),  # a file name: that version
        (["libpq.so.4"], False),
        (["libp"], False),
        (["libpq5"], False),
    ],
)
def test_a_library_a_declared_layer_provides_is_loaded_from_this_machine(
    layers: list[str], allowed: bool
) -> None:
    config = {
        "libraries": sorted(runtime_libraries(RUNTIME).sonames),
        "layer_libraries": layers,
        "shipped": [],
        "library_dirs": [],
        "read_only": [],
        "guard_libraries": True,
    }
    found, loaded = _guarded(config, CHECK).split("|")
    if allowed:
        assert (found, loaded) == ("libpq.so.5", "loaded")
    else:
        assert (found, loaded) == ("None", MISSING)


@needs_host_libpq
def test_the_manifests_layer_libraries_reach_the_worker(
    repo: Repo, loader: Function, make_emulator: EmulatorFactory
) -> None:
    """The manifest's `layer_libraries` (from `[tool.lambdapress]`) reach the worker's guard."""
    with_layer = loader.model_copy(
        update={"contents": loader.contents.model_copy(update={"layer_libraries": ("libpq",)})}
    )
    emulator = make_emulator(repo.manifest(with_layer), repo.root)
    result = emulator.invoke(loader.name, {"how": "CDLL", "name": "libpq.so.5"})
    assert result.response["ok"].startswith("<CDLL 'libpq.so.5', handle"), result.logs
