"""How the CLI draws: rich tables and progress bars on a terminal, plain lines everywhere else.

CI logs, pipes and tests read lambdapress's output, so anything that is not an interactive
terminal (or has `NO_COLOR` set, or `TERM=dumb`) gets plain, stable text: the same aligned
tables and one line per step it has always printed. On a terminal the same facts are drawn
with rich (already installed with twine): a styled table and a live progress bar with counts
and the time remaining. Only the CLI modules use this; the library reports progress through
callbacks and never prints.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from typing import TYPE_CHECKING, Protocol, TextIO

from lambdapress.cli._tables import render_table

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

# rich is imported only on the terminal paths: piped and CI runs never pay for loading it. On a
# terminal too, a command whose run may well have nothing to draw (`package` with nothing to
# rebuild) asks for a lazy bar, which loads rich at the first step that does work, and prints
# its table plain when every row says nothing changed: a no-op stays as fast on a terminal as
# in CI, and the same facts are shown.


def is_plain(stream: TextIO) -> bool:
    """Plain text for `stream`: not a terminal, `NO_COLOR` set (no-color.org), or a dumb one."""
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return True
    isatty = getattr(stream, "isatty", None)
    return not (callable(isatty) and isatty())


def terminal(stream: TextIO) -> Console:
    """A rich console drawing on `stream` (a terminal: `is_plain(stream)` is false)."""
    from rich.console import Console

    return Console(file=stream, force_terminal=True, highlight=False)


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[object]],
    *,
    file: TextIO | None = None,
    plain: bool = False,
) -> None:
    """A table on `file` (stdout): rich on a terminal, `render_table`'s plain text otherwise.

    `plain` asks for the plain text on a terminal too (a table with nothing new to show).
    """
    stream = file if file is not None else sys.stdout
    if plain or is_plain(stream):
        print(render_table(headers, rows), file=stream)
        return
    from rich import box
    from rich.table import Table

    table = Table(box=box.SIMPLE_HEAD, header_style="bold", show_edge=False, pad_edge=False)
    for header in headers:
        table.add_column(header, overflow="fold")
    for row in rows:
        cells = [str(cell) for cell in row]
        if len(cells) > len(headers):
            raise ValueError(f"row has {len(cells)} cells but the table has {len(headers)} columns")
        table.add_row(*cells)
    terminal(stream).print(table)


class Steps(Protocol):
    """A running display of numbered steps.

    `step` when one is done, `note` for what is under way, `say` for a line that must stay
    (warnings).
    """

    def step(self, description: str, done: int, total: int, *, busy: bool = True) -> None:
        """Step `done` of `total` finished; `description` says which.

        `busy` False: the step did no work (nothing changed), which a lazy display skips.
        """

    def note(self, line: str) -> None:
        """What is happening now (a wheel being installed): may be replaced by the next one."""

    def say(self, line: str) -> None:
        """A line that stays (a warning), printed above a live display."""


class PlainSteps:
    """One line per step and per note: what CI logs and pipes get."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream

    def step(self, description: str, done: int, total: int, *, busy: bool = True) -> None:
        """`[done/total] description` on a line of its own (every step: logs stay complete)."""
        self._write(f"[{done}/{total}] {description}")

    def note(self, line: str) -> None:
        """The line as it is."""
        self._write(line)

    def say(self, line: str) -> None:
        """The line as it is."""
        self._write(line)

    def _write(self, line: str) -> None:
        # One write per line: callbacks arrive from several build threads at once.
        self._stream.write(line + "\n")
        self._stream.flush()


class BarSteps:
    """A live rich progress bar: spinner, what, bar, done/total, elapsed, time remaining."""

    def __init__(self, progress: Progress, title: str) -> None:
        self._progress = progress
        self._title = title
        self._task: TaskID | None = None

    def step(self, description: str, done: int, total: int, *, busy: bool = True) -> None:
        """Move the bar to `done` of `total`, showing the step just finished."""
        text = f"{self._title}: {description}"
        if self._task is None:
            self._task = self._progress.add_task(text, total=total)
        self._progress.update(self._task, completed=done, total=total, description=text)

    def note(self, line: str) -> None:
        """Show `line` as what the bar is doing now."""
        if self._task is None:
            self._task = self._progress.add_task(line, total=None)
        else:
            self._progress.update(self._task, description=f"{self._title}: {line}")

    def say(self, line: str) -> None:
        """Print `line` above the bar, where it stays once the bar is gone."""
        self._progress.console.print(
            line, markup=False, highlight=False, emoji=False, soft_wrap=True
        )


class LazyBarSteps:
    """A bar started at the first step that does work (or the first note): until then none.

    A run with nothing to do draws nothing and loads no rich; a warning said before the bar
    starts is a plain line that stays.
    """

    def __init__(self, stream: TextIO, title: str, stack: ExitStack) -> None:
        self._stream = stream
        self._title = title
        self._stack = stack
        self._bar: BarSteps | None = None
        self._lock = threading.Lock()  # builds report from several threads

    def step(self, description: str, done: int, total: int, *, busy: bool = True) -> None:
        """Start the bar for a busy step; once it is up, show every step."""
        bar = self._started() if busy else self._bar
        if bar is not None:
            bar.step(description, done, total)

    def note(self, line: str) -> None:
        """Something is under way: start the bar and show it."""
        self._started().note(line)

    def say(self, line: str) -> None:
        """Above the bar once it is up; a plain line before."""
        if self._bar is not None:
            self._bar.say(line)
            return
        self._stream.write(line + "\n")
        self._stream.flush()

    def _started(self) -> BarSteps:
        with self._lock:
            if self._bar is None:
                self._bar = self._stack.enter_context(_bar(self._stream, self._title))
            return self._bar


@contextmanager
def steps(title: str, *, stream: TextIO | None = None, lazy: bool = False) -> Iterator[Steps]:
    """Show progress on `stream` (stderr) for the length of the `with`.

    A bar on a terminal (removed when done, the result follows), plain lines otherwise. With
    `lazy`, the bar starts at the first step that does work (`LazyBarSteps`).
    """
    target = stream if stream is not None else sys.stderr
    if is_plain(target):
        yield PlainSteps(target)
        return
    if lazy:
        with ExitStack() as stack:
            yield LazyBarSteps(target, title, stack)
        return
    with _bar(target, title) as bar:
        yield bar


@contextmanager
def _bar(target: TextIO, title: str) -> Iterator[BarSteps]:
    """rich's live progress bar on `target`, removed when the `with` ends."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=terminal(target),
        transient=True,
    )
    with progress:
        yield BarSteps(progress, title)
