"""Network jobs on daemon threads: given up on when silent, never keeping the process alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

from lambdapress.bundle.transfers import Progress, on_daemon_threads, run_round

WITHIN = 20.0
"""Seconds: a bound on waiting, not a measurement."""


def test_a_silent_job_ends_the_round_and_is_told_to_stop() -> None:
    stopped = threading.Event()

    def job(item: str, progress: Progress) -> str:
        if item == "silent":
            while not progress.cancelled:  # a read that never returns would just sit here
                time.sleep(0.01)
            stopped.set()
        return item

    done = run_round(job, ["quick", "silent"], 2, stall=0.3, overall=60)

    assert (done.results, done.stalled, done.overran) == (
        {0: "quick"},
        "waiting for an answer",
        False,
    )
    assert done.silence > 0.3
    assert stopped.wait(WITHIN)


def test_a_job_that_keeps_moving_is_waited_for_and_what_it_did_is_said() -> None:
    def job(item: int, progress: Progress) -> int:
        for _ in range(8):
            time.sleep(0.05)
            progress.beat("receiving")
        return item * 2

    done = run_round(job, [1, 2, 3], 2, stall=0.3, overall=60)

    assert (done.results, done.stalled) == ({0: 2, 1: 4, 2: 6}, "")


def test_a_round_past_its_overall_deadline_gives_up_even_while_moving() -> None:
    def job(item: int, progress: Progress) -> int:
        while not progress.cancelled:
            time.sleep(0.02)
            progress.beat("receiving")
        return item

    done = run_round(job, [1], 1, stall=10, overall=0.3)

    assert (done.results, done.overran) == ({}, True)


def test_on_daemon_threads_keeps_the_order_and_raises_the_first_failure() -> None:
    assert on_daemon_threads(lambda n: n * n, [3, 1, 2], 2) == [9, 1, 4]
    assert on_daemon_threads(lambda n: n, [], 4) == []

    def fail_on_two(n: int) -> int:
        if n == 2:
            raise ValueError("two")
        return n

    with pytest.raises(ValueError, match="two"):
        on_daemon_threads(fail_on_two, [1, 2, 3], 2)


BLOCKED = """
import socket, sys
from lambdapress.bundle.transfers import on_daemon_threads
from lambdapress.support.lifetime import Interrupted, signal_handlers

listener = socket.create_server(("127.0.0.1", 0))  # accepts (backlog), never answers

def wait_for_an_answer(_):
    connection = socket.create_connection(listener.getsockname())
    return connection.recv(1)  # blocked in the kernel, with no timeout at all

with signal_handlers():
    try:
        print("waiting", flush=True)
        on_daemon_threads(wait_for_an_answer, [1, 2], 2)
    except Interrupted as stop:
        sys.exit(stop.exit_code)
"""


def _default_signals() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="POSIX signals")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_ends_a_wait_on_sockets_that_never_answer(signum: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(BLOCKED)],
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_signals,
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "waiting\n"
        time.sleep(0.3)  # the jobs are in recv() by now
        process.send_signal(signum)
        assert process.wait(timeout=WITHIN) == 128 + signum
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if process.stdout is not None:
            process.stdout.close()
