"""Lambda's REPORT line, error documents and the log tail."""

from __future__ import annotations

import base64
import json

from lambdapress.emulator import FunctionError, InvocationResult, Report
from lambdapress.emulator.reports import end_line, start_line, timeout_line

RID = "8f5a7c2e-0000-4000-8000-000000000001"


def test_a_warm_report_line_has_no_init_duration() -> None:
    report = Report(RID, duration_ms=2.314, memory_size_mb=128, max_memory_used_mb=31)
    assert report.line() == (
        f"REPORT RequestId: {RID}\tDuration: 2.31 ms\tBilled Duration: 3 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 31 MB\t"
    )
    assert not report.cold


def test_a_cold_report_line_has_init_duration_and_bills_it() -> None:
    report = Report(RID, 1.2, 256, 40, init_duration_ms=110.456)
    assert report.line().endswith("Max Memory Used: 40 MB\tInit Duration: 110.46 ms\t")
    assert report.billed_duration_ms == 112 and report.cold


def test_failed_invocations_carry_status_and_error_type() -> None:
    timeout = Report(RID, 1000.0, 128, 30, status="timeout", error_type="Sandbox.Timedout")
    assert timeout.line().endswith("Status: timeout\t")
    crash = Report(RID, 5.0, 128, 30, status="error", error_type="Runtime.ExitError")
    assert crash.line().endswith("Status: error\tError Type: Runtime.ExitError\t")


def test_start_end_and_timeout_lines() -> None:
    assert start_line(RID) == f"START RequestId: {RID} Version: $LATEST"
    assert end_line(RID) == f"END RequestId: {RID}"
    assert timeout_line(RID, 3).endswith(f"Z {RID} Task timed out after 3.00 seconds")


def test_error_documents_round_trip_and_junk_is_tolerated() -> None:
    error = FunctionError("ValueError", "boom", ("  File x, line 1\n",))
    assert FunctionError.from_document(error.to_json(RID)) == error
    assert json.loads(error.to_json(RID))["requestId"] == RID
    assert FunctionError.from_document(b"not json").message == "not json"
    assert FunctionError.from_document(b"[1]").error_type == "Runtime.Unknown"


def test_the_log_tail_is_the_last_4_kb_in_base64() -> None:
    logs = "a" * 5000 + "THE END\n"
    result = InvocationResult("f", RID, b"{}", None, logs, Report(RID, 1.0, 128, 10), "f#1")
    tail = base64.b64decode(result.log_tail())
    assert len(tail) == 4096 and tail.endswith(b"THE END\n")
    assert result.ok and result.function_error is None and result.response == {}


def test_readable_logs_turn_record_breaks_into_lines() -> None:
    result = InvocationResult(
        "f", RID, b"{}", None, "[ERROR] X: y\rTraceback\r  line\n", Report(RID, 1.0, 128, 1), "w"
    )
    assert result.readable_logs() == "[ERROR] X: y\nTraceback\n  line\n"
