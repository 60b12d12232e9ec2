"""Signals and process lifetime, in real processes: handlers that do not depend on what was
inherited, children that cannot outlive their parent, a parent that can take us with it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lambdapress.support.lifetime import STOP_WITH_PARENT, Interrupted, running

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def _ignore_sigint() -> None:
    """What a shell does to a command it starts in the background: SIGINT ignored."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _python(script: str, *args: str, **options: object) -> subprocess.Popen[str]:
    return subprocess.Popen(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-c", textwrap.dedent(script), *args],
        stdout=subprocess.PIPE,
        text=True,
        **options,
    )


def _gone(pid: int, within: float = 15.0) -> bool:
    """Whether `pid` ends within `within` seconds (a bound on waiting, not a measurement)."""
    deadline = time.monotonic() + within
    while running(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def _stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.kill()
    process.wait()
    if process.stdout is not None:
        process.stdout.close()


def test_interrupted_carries_the_signal_and_the_shell_exit_code() -> None:
    assert (Interrupted(signal.SIGINT).exit_code, Interrupted(signal.SIGINT).name) == (
        130,
        "SIGINT",
    )
    assert Interrupted(signal.SIGTERM).exit_code == 143
    assert isinstance(Interrupted(signal.SIGTERM), KeyboardInterrupt)


HANDLED = """
    import sys, time
    from lambdapress.support.lifetime import Interrupted, signal_handlers
    with signal_handlers():
        try:
            print("ready", flush=True)
            time.sleep(60)
        except Interrupted as stop:
            print("unwound", stop.name, flush=True)
            sys.exit(stop.exit_code)
"""


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_the_handlers_work_even_when_sigint_was_inherited_as_ignored(
    signum: signal.Signals, code: int
) -> None:
    process = _python(HANDLED, preexec_fn=_ignore_sigint)
    try:
        assert process.stdout is not None
        assert process.stdout.readline() == "ready\n"
        process.send_signal(signum)
        assert process.wait(timeout=30) == code
        assert process.stdout.read() == f"unwound {signum.name}\n"
    finally:
        _stop(process)


BOUND_CHILD = """
    import sys, threading, time
    from lambdapress.support.lifetime import bound_popen
    box = {}

    def start():  # a short-lived thread, like the emulator's request threads
        box["child"] = bound_popen(
            [sys.executable, "-c", "import time; time.sleep(120)"], method=sys.argv[1]
        )

    thread = threading.Thread(target=start)
    thread.start()
    thread.join()
    time.sleep(0.5)
    print(box["child"].pid, box["child"].poll(), flush=True)
    time.sleep(120)
"""


@pytest.mark.parametrize("method", ["pdeathsig", "watchdog"])
def test_a_bound_child_outlives_the_thread_that_started_it_but_not_a_killed_parent(
    method: str,
) -> None:
    parent = _python(BOUND_CHILD, method)
    try:
        assert parent.stdout is not None
        pid, status = parent.stdout.readline().split()
        assert status == "None"  # still running after its starting thread ended
        assert running(int(pid))
        parent.send_signal(signal.SIGKILL)  # no handler, no finally: only the kernel can help
        parent.wait(timeout=30)
        assert _gone(int(pid)), f"the child {pid} outlived its SIGKILLed parent ({method})"
    finally:
        _stop(parent)


UNBOUND_CHILD_IN_A_THREAD = """
    import subprocess, sys, threading, time
    from lambdapress.support.lifetime import Interrupted, signal_handlers
    box = {}

    def work():  # like the bundler running uv from a pool thread
        box["child"] = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
        box["child"].wait()

    with signal_handlers():
        thread = threading.Thread(target=work)
        try:
            thread.start()
            while "child" not in box:
                time.sleep(0.01)
            print(box["child"].pid, flush=True)
            thread.join()
        except Interrupted as stop:
            thread.join()
            sys.exit(stop.exit_code)
"""


def test_a_signal_ends_the_children_of_background_threads_so_the_exit_is_not_held() -> None:
    parent = _python(UNBOUND_CHILD_IN_A_THREAD, preexec_fn=_ignore_sigint)
    try:
        assert parent.stdout is not None
        child = int(parent.stdout.readline())
        parent.send_signal(signal.SIGINT)
        assert parent.wait(timeout=30) == 130
        assert not running(child)
    finally:
        _stop(parent)


STOPS_WITH_PARENT = """
    import sys, time
    from pathlib import Path
    from lambdapress.support.lifetime import Interrupted, signal_handlers, stop_with_parent
    with signal_handlers():
        stop_with_parent()
        try:
            print("ready", flush=True)
            time.sleep(60)
        except Interrupted as stop:
            Path(sys.argv[1]).write_text(stop.name)
"""

PARENT = """
    import os, subprocess, sys
    child = subprocess.Popen(
        [sys.executable, "-c", sys.argv[1], sys.argv[2]],
        env={**os.environ, "LAMBDAPRESS_STOP_WITH_PARENT": str(os.getpid())},
        stdout=subprocess.PIPE, text=True,
    )
    print(child.pid, child.stdout.readline().strip(), flush=True)
    child.wait()
"""


def test_a_command_asked_to_stop_with_its_parent_unwinds_when_the_parent_is_killed(
    tmp_path: Path,
) -> None:
    marker = tmp_path / "stopped-by"
    parent = _python(PARENT, textwrap.dedent(STOPS_WITH_PARENT), str(marker))
    try:
        assert parent.stdout is not None
        pid, state = parent.stdout.readline().split()
        assert state == "ready"
        parent.send_signal(signal.SIGKILL)  # nox dying on SIGTERM looks the same to its child
        parent.wait(timeout=30)
        assert _gone(int(pid))
        assert marker.read_text() == "SIGTERM"
    finally:
        _stop(parent)


def test_without_the_variable_a_command_outlives_its_parent(tmp_path: Path) -> None:
    marker = tmp_path / "stopped-by"
    script = PARENT.replace(f'"{STOP_WITH_PARENT}"', '"UNRELATED"')
    parent = _python(script, textwrap.dedent(STOPS_WITH_PARENT), str(marker))
    pid = 0
    try:
        assert parent.stdout is not None
        pid = int(parent.stdout.readline().split()[0])
        parent.send_signal(signal.SIGKILL)
        parent.wait(timeout=30)
        time.sleep(0.5)
        assert running(pid) and not marker.exists()
    finally:
        _stop(parent)
        if pid and running(pid):
            os.kill(pid, signal.SIGKILL)


SIGNAL_TO_ANOTHER_THREAD = """
    import signal, sys, threading, time
    from lambdapress.support.lifetime import Interrupted, signal_handlers
    started = threading.Event()

    def other():
        started.set()
        time.sleep(60)

    thread = threading.Thread(target=other, daemon=True)
    thread.start()
    started.wait()
    with signal_handlers():
        try:
            # Thread-directed: the signal reaches the other thread, never the main one.
            kill = threading.Timer(0.2, signal.pthread_kill, (thread.ident, signal.SIGTERM))
            kill.start()
            threading.Event().wait(60)  # the main thread, blocked in a long wait
        except Interrupted as stop:
            sys.exit(stop.exit_code)
    sys.exit(0)
"""


def test_a_signal_received_by_another_thread_still_stops_a_blocked_main_thread() -> None:
    process = _python(SIGNAL_TO_ANOTHER_THREAD)
    try:
        assert process.wait(timeout=30) == 143
    finally:
        _stop(process)
