"""The emulator end to end on real zips: responses, errors, container reuse, isolation."""

from __future__ import annotations

import json
import os
import re
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

import pytest

from lambdapress.emulator import Emulator, EmulatorWarning, InvocationResult, Listeners
from lambdapress.errors import EmulatorError

from .conftest import EmulatorFactory, Repo

REPORT = re.compile(
    r"^REPORT RequestId: (?P<id>[0-9a-f-]{36})\tDuration: \d+\.\d\d ms\tBilled Duration: \d+ ms\t"
    r"Memory Size: (?P<size>\d+) MB\tMax Memory Used: (?P<used>\d+) MB\t"
    r"(Init Duration: (?P<init>\d+\.\d\d) ms\t)?(Status: (?P<status>\w+)\t)?"
    r"(Error Type: (?P<type>[\w.]+)\t)?$",
    re.MULTILINE,
)


def test_a_response_comes_back_with_lambdas_log_lines(shared_emulator: Emulator) -> None:
    result = shared_emulator.invoke("demo.logs", {"x": 1})

    assert result.ok and result.response == "done"
    lines = result.logs.splitlines()
    start = lines.index(f"START RequestId: {result.request_id} Version: $LATEST")
    end = lines.index(f"END RequestId: {result.request_id}")
    assert "printed line" in lines[start + 1 : end]
    logged = [line for line in lines[start:end] if line.endswith("logged line")]
    assert logged and logged[0].startswith("[INFO]\t") and result.request_id in logged[0]
    report = REPORT.search(result.logs)
    assert report is not None and report["id"] == result.request_id and report["size"] == "128"


def test_init_duration_is_reported_on_a_workers_first_invocation_only(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    emulator = make_emulator(repo.manifest(repo.app("ok")), repo.root, concurrency=1)
    first, second, third = (emulator.invoke("demo.ok", {"n": n}) for n in range(3))

    assert first.cold and first.report.init_duration_ms is not None
    assert first.logs.startswith("INIT_START Runtime Version: ")
    assert "init: app imported" in first.logs
    assert not second.cold and not third.cold
    assert "Init Duration" not in second.logs and "INIT_START" not in second.logs
    assert "init: app imported" not in second.logs
    # One container served all three: the same process, reported as the same worker.
    assert first.response["pid"] == second.response["pid"] == third.response["pid"]
    assert first.worker_id == second.worker_id == third.worker_id
    stats = emulator.stats()[0]
    assert (stats.started, stats.invocations, stats.workers) == (1, 3, 1)


def test_a_handler_exception_is_lambdas_error_document_and_the_worker_stays_warm(
    shared_emulator: Emulator,
) -> None:
    shared_emulator.invoke("demo.raises", {})  # warm it up
    result = shared_emulator.invoke("demo.raises", {"why": "bad input"})

    assert result.function_error == "Unhandled"
    assert result.error is not None and result.error.error_type == "ValueError"
    assert result.response["errorMessage"] == "boom: bad input"
    assert result.response["requestId"] == result.request_id
    assert any("raise ValueError" in line for line in result.response["stackTrace"])
    assert "[ERROR] ValueError: boom: bad input" in result.logs
    report = REPORT.search(result.logs)
    assert report is not None and (report["status"], report["type"]) == ("error", "ValueError")
    again = shared_emulator.invoke("demo.raises", {})
    assert again.worker_id == result.worker_id and not again.cold


def test_a_timeout_kills_the_worker_and_says_so(repo: Repo, make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(repo.manifest(repo.app("sleeps", timeout=1)), repo.root)
    result = emulator.invoke("demo.sleeps", {"seconds": 30})

    assert result.error is not None and result.error.error_type == "Sandbox.Timedout"
    assert result.error.message == (
        f"RequestId: {result.request_id} Error: Task timed out after 1.00 seconds"
    )
    assert re.search(
        rf"^\d{{4}}-\d\d-\d\dT[\d:.]+Z {result.request_id} Task timed out after 1.00 seconds$",
        result.logs,
        re.MULTILINE,
    )
    report = REPORT.search(result.logs)
    assert report is not None and report["status"] == "timeout"
    assert "Duration: 1000.00 ms" in result.logs
    after = emulator.invoke("demo.sleeps", {"seconds": 0})
    assert after.ok and after.cold and after.worker_id != result.worker_id


def test_a_crash_answers_runtime_exit_error_and_the_next_invocation_starts_fresh(
    shared_emulator: Emulator,
) -> None:
    result = shared_emulator.invoke("demo.crashes", {})

    assert result.error is not None and result.error.error_type == "Runtime.ExitError"
    assert result.response == {
        "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: "
        "exit status 1",
        "errorType": "Runtime.ExitError",
    }
    assert "about to crash" in result.logs
    report = REPORT.search(result.logs)
    assert report is not None and report["type"] == "Runtime.ExitError"
    again = shared_emulator.invoke("demo.crashes", {})
    assert again.cold and again.worker_id != result.worker_id


def test_a_module_missing_from_the_zip_fails_as_on_lambda_though_the_venv_has_it(
    shared_emulator: Emulator,
) -> None:
    import pydantic  # the developer's environment has it...

    assert pydantic.VERSION
    result = shared_emulator.invoke("demo.broken", {})  # ...the artifact does not

    assert result.error is not None
    assert result.error.error_type == "Runtime.ImportModuleError"
    assert result.error.message == "Unable to import module 'broken': No module named 'pydantic'"
    assert result.cold and "[ERROR] Runtime.ImportModuleError" in result.logs
    report = REPORT.search(result.logs)
    assert report is not None and report["init"] is not None
    assert report["type"] == "Runtime.ImportModuleError"
    # An init error leaves no container behind: the next invocation initialises again.
    again = shared_emulator.invoke("demo.broken", {})
    assert again.cold and again.error is not None and again.worker_id != result.worker_id


def test_exceeding_the_memory_setting_is_an_out_of_memory_error(
    shared_emulator: Emulator,
) -> None:
    result = shared_emulator.invoke("demo.allocates", {"mb": 200})

    assert result.error is not None and result.error.error_type == "Runtime.OutOfMemory"
    assert "Runtime exited with error: signal: killed" in result.error.message
    assert result.report.max_memory_used_mb > 128
    assert "Status: error\tError Type: Runtime.OutOfMemory" in result.logs
    small = shared_emulator.invoke("demo.allocates", {"mb": 1})
    assert small.ok and small.cold and small.report.max_memory_used_mb <= 128


def test_a_response_above_6_mb_is_refused_and_the_container_reset(
    shared_emulator: Emulator,
) -> None:
    result = shared_emulator.invoke("demo.big", {"mb": 7})

    assert result.error is not None
    assert result.error.error_type == "Function.ResponseSizeTooLarge"
    assert "6291556 bytes" in result.error.message
    fine = shared_emulator.invoke("demo.big", {"mb": 1})
    assert fine.ok and fine.cold and len(fine.payload) > 1024 * 1024


def test_an_event_above_6_mb_is_refused_before_running(shared_emulator: Emulator) -> None:
    with pytest.raises(EmulatorError, match="at most 6291456 bytes"):
        shared_emulator.invoke("demo.ok", {"blob": "x" * (6 * 1024 * 1024)})


def test_the_worker_sees_only_its_artifact_and_lambdas_environment(
    shared_emulator: Emulator,
) -> None:
    result = shared_emulator.invoke(
        "demo.inspect",
        {},
        client_context={"custom": {"tenant": "t1"}},
        cognito_identity={"cognitoIdentityId": "id-1", "cognitoIdentityPoolId": "pool-1"},
    )
    data = result.response
    env, context = data["env"], data["context"]

    task_root = env["LAMBDA_TASK_ROOT"]
    assert data["cwd"] == task_root
    assert data["path"][:2] == [task_root, env["LAMBDA_RUNTIME_DIR"]]
    assert not any("site-packages" in entry for entry in data["path"])
    assert not any(sys.prefix in entry for entry in data["path"][2:] if sys.prefix != "/usr")
    assert data["flags"] == {"isolated": 1, "no_site": 1, "dont_write_bytecode": True}
    assert data["version"] == f"{sys.version_info[0]}.{sys.version_info[1]}"
    assert env["VIRTUAL_ENV"] is None
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "demo-inspect"
    assert env["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "128"
    assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "$LATEST"
    assert env["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/demo-inspect"
    assert re.fullmatch(
        r"\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}", env["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    assert env["_HANDLER"] == "app.inspect" and env["TZ"] == ":UTC"
    assert env["AWS_EXECUTION_ENV"] == f"AWS_Lambda_python3.{sys.version_info.minor}"
    assert env["AWS_ACCESS_KEY_ID"] and env["AWS_SECRET_ACCESS_KEY"] and env["AWS_SESSION_TOKEN"]
    assert env["_X_AMZN_TRACE_ID"].startswith("Root=1-")
    assert env["GREETING"] == "hello"
    assert env["LAMBDAPRESS_STRICT"] == "1"  # lambdapress_runtime reports leftovers
    assert context["function_name"] == "demo-inspect"
    assert context["memory_limit_in_mb"] == "128"
    assert context["aws_request_id"] == result.request_id
    assert context["invoked_function_arn"] == (
        "arn:aws:lambda:us-east-1:123456789012:function:demo-inspect"
    )
    assert 0 < context["remaining_ms"] <= 3000
    assert context["client_context"] == {"tenant": "t1"}
    assert context["cognito_identity_id"] == "id-1"


def test_functions_are_found_by_manifest_name_lambda_name_or_arn(
    shared_emulator: Emulator,
) -> None:
    arn = shared_emulator.function_arn("demo.ok")
    for name in ("demo.ok", "demo-ok", arn, f"{arn}:$LATEST"):
        assert shared_emulator.resolve(name).name == "demo.ok"
    with pytest.raises(EmulatorError, match=r"no function named 'demo\.nope'.*demo\.ok"):
        shared_emulator.invoke("demo.nope", {})


def test_concurrent_invocations_start_workers_up_to_the_limit_and_reuse_them(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    emulator = make_emulator(repo.manifest(repo.app("sleeps")), repo.root, concurrency=3)
    with ThreadPoolExecutor(6) as pool:
        results = list(
            pool.map(lambda _: emulator.invoke("demo.sleeps", {"seconds": 0.05}), range(18))
        )

    assert all(result.ok for result in results)
    stats = emulator.stats()[0]
    assert stats.started <= 3 and stats.peak_concurrency <= 3
    assert stats.invocations == 18
    assert sum(1 for result in results if result.cold) == stats.started
    assert all(count > 1 for count in stats.reuse.values())


def test_idle_workers_are_recycled(repo: Repo, make_emulator: EmulatorFactory) -> None:
    emulator = make_emulator(repo.manifest(repo.app("ok")), repo.root, idle_timeout=3600)
    first = emulator.invoke("demo.ok", {})
    assert emulator.recycle_idle() == 0  # not idle for long enough

    emulator.workers = replace(emulator.workers, idle_timeout=0.0)
    for pool in emulator._pools.values():
        pool.idle_timeout = 0.0
    assert emulator.recycle_idle() == 1
    second = emulator.invoke("demo.ok", {})
    assert second.cold and second.response["pid"] != first.response["pid"]


def test_the_janitor_recycles_idle_workers_in_the_background(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    emulator = make_emulator(repo.manifest(repo.app("ok")), repo.root, idle_timeout=0.1)
    emulator.invoke("demo.ok", {})
    for _ in range(200):  # wait for the sweep, without asserting on how long it takes
        if emulator.stats()[0].workers == 0:
            break
        emulator._stop.wait(0.05)
    assert emulator.stats()[0].workers == 0


def test_reload_restarts_only_the_functions_that_changed(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    ok, logs = repo.app("ok"), repo.app("logs")
    emulator = make_emulator(repo.manifest(ok, logs), repo.root)
    before_ok = emulator.invoke("demo.ok", {})
    before_logs = emulator.invoke("demo.logs", {})

    changed = emulator.reload(repo.manifest(ok.model_copy(update={"memory": 256}), logs))

    assert changed == ["demo.ok"]
    after_ok, after_logs = emulator.invoke("demo.ok", {}), emulator.invoke("demo.logs", {})
    assert after_ok.cold and after_ok.report.memory_size_mb == 256
    assert after_ok.worker_id != before_ok.worker_id
    assert not after_logs.cold and after_logs.worker_id == before_logs.worker_id


def test_a_reserved_variable_in_the_manifest_is_refused(repo: Repo) -> None:
    entry = repo.app("ok", environment={"AWS_REGION": "eu-west-1"})
    with pytest.raises(EmulatorError, match=r"demo\.ok sets reserved Lambda environment variables"):
        Emulator(repo.manifest(entry), repo.root)


def test_an_artifact_that_changed_since_the_manifest_is_refused(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    emulator = make_emulator(repo.manifest(repo.app("ok")), repo.root)
    repo.app_zip.write_bytes(repo.app_zip.read_bytes() + b"tampered")
    with pytest.raises(EmulatorError, match="does not match the manifest") as caught:
        emulator.invoke("demo.ok", {})
    assert caught.value.path == repo.app_zip.resolve()
    assert "nox -s package" in str(caught.value)


def test_the_listeners_hear_every_result_and_each_warning_once(
    repo: Repo, make_emulator: EmulatorFactory
) -> None:
    results: list[InvocationResult] = []
    warned: list[str] = []
    listeners = Listeners(on_warning=warned.append, on_invocation=results.append)
    emulator = make_emulator(repo.manifest(repo.app("ok")), repo.root, listeners=listeners)
    answers = [emulator.invoke("demo.ok", {"n": n}) for n in range(2)]
    emulator.warn("runs slower here")
    emulator.warn("runs slower here")
    assert results == answers
    assert warned.count("runs slower here") == 1


def test_a_missing_python_version_is_a_warning_and_the_current_python_runs_it(
    repo: Repo, make_emulator: EmulatorFactory, tmp_path: Path
) -> None:
    entry = repo.app("ok")
    other = "3.11" if entry.python_version != "3.11" else "3.12"
    entry = entry.model_copy(update={"runtime": f"python{other}"})
    emulator = make_emulator(repo.manifest(entry), repo.root, pythons={other: Path(sys.executable)})
    with pytest.warns(EmulatorWarning, match=f"python{other} functions run on Python 3"):
        result = emulator.invoke("demo.ok", {})
    assert result.ok


def test_close_stops_every_worker_process(repo: Repo, runtime_cache: Path) -> None:
    emulator = Emulator(repo.manifest(repo.app("ok")), repo.root, cache_dir=runtime_cache)
    pid = emulator.invoke("demo.ok", {}).response["pid"]
    emulator.close()
    emulator.close()  # idempotent
    with pytest.raises(ProcessLookupError):  # killed and reaped
        os.kill(pid, 0)
    with pytest.raises(EmulatorError, match="closed"):
        emulator.invoke("demo.ok", {})


def test_the_library_prints_nothing(
    repo: Repo, runtime_cache: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    manifest = repo.manifest(repo.app("logs"), repo.app("crashes"), repo.app("raises"))
    with Emulator(manifest, repo.root, cache_dir=runtime_cache) as emulator:
        for name in ("demo.logs", "demo.crashes", "demo.raises", "demo.logs"):
            emulator.invoke(name, {})
    assert capfd.readouterr() == ("", "")


def test_the_payload_is_passed_through_byte_for_byte(shared_emulator: Emulator) -> None:
    result = shared_emulator.invoke("demo.ok", payload=b'{"unicode": "\\u00e9", "n": 1.50}')
    assert result.response["event"] == json.loads('{"unicode": "\\u00e9", "n": 1.50}')
