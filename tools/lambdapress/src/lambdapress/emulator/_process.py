"""Operating-system plumbing for worker processes: output capture, peak memory, killing.

A worker's stdout and stderr share one pipe, read continuously by one thread (a full pipe would
block the function mid-print). Attributing output to an invocation needs no cooperation from
the worker: the runtime client writes its logs unbuffered, so everything printed before it
posted its response is already in the pipe when the response arrives, and `take()` drains the
pipe without blocking before handing the text over.
"""

from __future__ import annotations

import codecs
import os
import select
import signal
import subprocess
import sys
import threading
from pathlib import Path

from lambdapress.support.lifetime import release

_MB = 1024 * 1024


class OutputCapture:
    """Collects everything a process writes to one pipe; `take()` returns what is new."""

    def __init__(self, fd: int, name: str) -> None:
        self._fd = fd
        os.set_blocking(fd, False)
        self._lock = threading.Lock()
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._text: list[str] = []
        self._eof = False
        self._closed = False
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"output-{name}", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and not self._eof:
            try:
                readable, _, _ = select.select([self._fd], [], [], 0.1)
            except (OSError, ValueError):
                return
            if readable:
                with self._lock:
                    self._drain_locked()

    def _drain_locked(self) -> None:
        while not self._eof:
            try:
                chunk = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self._eof = True
                self._text.append(self._decoder.decode(b"", final=True))
                return
            self._text.append(self._decoder.decode(chunk))

    def take(self) -> str:
        """Everything written since the last call (reading what is still in the pipe)."""
        with self._lock:
            if not self._closed:
                self._drain_locked()
            text, self._text = "".join(self._text), []
        return text

    def close(self) -> None:
        """Stop the reader thread after a last drain.

        The pipe itself belongs to the Popen object, so after this the descriptor is never touched
        again.
        """
        self._stop.set()
        self._thread.join()
        with self._lock:
            if not self._closed:
                self._drain_locked()
                self._closed = True


def peak_rss_bytes(pid: int) -> int | None:
    """The peak resident set size of a live process (Linux: VmHWM), else its current RSS."""
    try:
        with Path(f"/proc/{pid}/status").open("rb") as status:
            for line in status:
                if line.startswith(b"VmHWM:"):
                    return int(line.split()[1]) * 1024
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        pass
    if sys.platform.startswith("linux"):
        return None
    try:  # macOS and others: current RSS from ps, in kilobytes
        out = subprocess.run(
            ["ps", "-o", "rss=", "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout.strip()
    except OSError:
        return None
    return int(out) * 1024 if out.isdigit() else None


def to_mb(size: int) -> int:
    """Bytes to whole megabytes, rounded up, as Lambda reports memory."""
    return -(-size // _MB)


def kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the worker and anything it started (it leads its own process group)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError, AttributeError):
            process.kill()
    process.wait()
    release(process)


# How Lambda (written in Go) names the signals that end a runtime.
_SIGNAL_WORDS = {
    "SIGKILL": "killed",
    "SIGSEGV": "segmentation fault",
    "SIGABRT": "aborted",
    "SIGTERM": "terminated",
    "SIGBUS": "bus error",
    "SIGILL": "illegal instruction",
    "SIGFPE": "floating point exception",
}


def describe_exit(returncode: int) -> str:
    """Lambda's wording: `exit status 1`, `signal: killed`."""
    if returncode >= 0:
        return f"exit status {returncode}"
    try:
        name = signal.Signals(-returncode).name
    except ValueError:
        return f"signal: {-returncode}"
    return f"signal: {_SIGNAL_WORDS.get(name, name.removeprefix('SIG').lower())}"
