"""Internal errors: one line for the user, the whole traceback in a log file for the bug report.

A traceback on a terminal looks like a handled error to some and like noise to others, and it
gets cut off when pasted. lambdapress's own bugs are therefore reported as
`internal error in lambdapress <version>: <Type>: <message>` with the path of a log file that
holds the full traceback, under the workspace's `.cache/lambdapress/logs/` (the system's
temporary folder when there is no workspace).
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path

from lambdapress.support.files import write_text
from lambdapress.version import __version__


def summary(error: BaseException) -> str:
    """`internal error in lambdapress 0.1.0: KeyError: 'x'`."""
    message = str(error)
    kind = type(error).__name__
    return f"internal error in lambdapress {__version__}: {kind}{': ' + message if message else ''}"


def logs_folder(root: Path | None) -> Path:
    """`<cache>/logs` of the workspace at `root`, or a folder in the system's temporary one."""
    if root is not None:
        from lambdapress.support.files import cache_folder

        return cache_folder(root) / "logs"
    return Path(tempfile.gettempdir()) / "lambdapress-logs"


def write_crash_log(error: BaseException, root: Path | None, command: list[str]) -> Path:
    """Write the traceback of `error` (and what ran) to a new log file; returns its path.

    When the workspace's folder cannot be written, the system's temporary folder is used.
    """
    now = datetime.datetime.now(datetime.UTC)
    text = "".join(
        [
            f"lambdapress {__version__} internal error at {now.isoformat()}\n",
            f"command: {' '.join(command)}\n",
            f"python:  {sys.version.split()[0]} on {platform.platform()}\n\n",
            *traceback.format_exception(error),
        ]
    )
    name = f"internal-error-{now:%Y%m%dT%H%M%S}-{os.getpid()}.log"
    for folder in (logs_folder(root), logs_folder(None)):
        try:
            write_text(folder / name, text)
        except OSError:
            continue
        return folder / name
    raise OSError(f"cannot write {name} in {logs_folder(root)} or {logs_folder(None)}")
