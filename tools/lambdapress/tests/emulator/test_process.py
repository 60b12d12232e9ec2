"""Output capture, peak memory and exit descriptions."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

from lambdapress.emulator._process import (
    OutputCapture,
    describe_exit,
    kill_tree,
    peak_rss_bytes,
    to_mb,
)


def test_take_returns_everything_written_before_the_call() -> None:
    script = (
        "import sys, time\n"
        "sys.stdout.write('one\\n'); sys.stdout.flush()\n"
        "sys.stderr.write('two\\n'); sys.stderr.flush()\n"
        "sys.stdout.write('caf\\u00e9 ' * 30000 + '\\n'); sys.stdout.flush()\n"
        "print('ready', flush=True); sys.stdin.readline()\n"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    assert process.stdout is not None and process.stdin is not None
    capture = OutputCapture(process.stdout.fileno(), "test")
    text = ""
    while "ready" not in text:  # the child blocks until we answer: no race on what it wrote
        text += capture.take()
        if process.poll() is not None:
            break
    process.stdin.write(b"\n")
    process.stdin.close()
    process.wait()
    capture.close()
    text += capture.take()
    process.stdout.close()

    assert text.startswith("one\ntwo\n")
    assert "café " * 30000 in text  # larger than a pipe buffer, multi-byte characters intact
    assert capture.take() == ""


def test_peak_memory_of_a_live_process() -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", "import sys; b = b'x' * (64 * 1024 * 1024); sys.stdin.read()"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    try:
        peak = 0
        for _ in range(500):  # wait until the allocation shows, without timing anything
            peak = peak_rss_bytes(process.pid) or 0
            if peak > 64 * 1024 * 1024:
                break
            time.sleep(0.01)
        assert to_mb(peak) > 64
    finally:
        kill_tree(process)
        assert process.stdin is not None and process.stdout is not None
        process.stdin.close()
        process.stdout.close()
    assert peak_rss_bytes(process.pid) is None


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (0, "exit status 0"),
        (1, "exit status 1"),
        (-signal.SIGKILL, "signal: killed"),
        (-signal.SIGSEGV, "signal: segmentation fault"),
        (-signal.SIGABRT, "signal: aborted"),
        (-signal.SIGUSR1, "signal: usr1"),
    ],
)
def test_exits_are_described_in_lambdas_words(code: int, words: str) -> None:
    assert describe_exit(code) == words


def test_megabytes_round_up() -> None:
    assert (to_mb(1), to_mb(1024 * 1024), to_mb(1024 * 1024 + 1)) == (1, 1, 2)
