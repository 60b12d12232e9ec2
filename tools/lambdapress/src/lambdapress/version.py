"""The installed tool's version, in a module of its own so every layer can read it.

Every command imports it, `lambdapress --version` first, so it reads the version from the
installed distribution's `METADATA` itself (the first `lambdapress-*.dist-info` on `sys.path`,
where `importlib.metadata` looks first too) and loads `importlib.metadata` (tens of
milliseconds: email, zipfile and more) only when that file is not there.
"""

from __future__ import annotations

import sys
from pathlib import Path

_DIST_INFO = ("lambdapress-", ".dist-info")


def _from_metadata_file() -> str | None:
    """`Version:` of the first lambdapress dist-info folder on `sys.path`, if there is one."""
    for entry in sys.path:
        try:
            names = sorted(p.name for p in Path(entry or ".").iterdir())
        except OSError:  # a zip, a missing folder: importlib.metadata's business
            continue
        for name in names:
            if not (name.startswith(_DIST_INFO[0]) and name.endswith(_DIST_INFO[1])):
                continue
            try:
                with (Path(entry) / name / "METADATA").open(encoding="utf-8") as metadata:
                    for line in metadata:
                        if line.startswith("Version:"):
                            return line.partition(":")[2].strip()
                        if not line.strip():  # the headers end at the first blank line
                            break
            except OSError:
                pass
            return None  # the first one decides, as for importlib.metadata
    return None


def _installed_version() -> str:
    found = _from_metadata_file()
    if found:
        return found
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("lambdapress")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0"


__version__ = _installed_version()
