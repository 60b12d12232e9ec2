"""What planning learns about files, kept between runs: digests by stat, imports by digest.

A no-op `package` at N=200 would otherwise read and hash every first-party file once per
function, parse every module once per function that reaches it, and hash every zip in dist/.
Here a file's sha256 is remembered with its stat (size, mtime_ns, inode, ctime_ns) and reused
while the stat is the same; a module's imports are remembered by its digest (and name), so an
unchanged module is never parsed again, and a touched-but-identical one only re-hashed. The
native-library facts of a file or an installed distribution (`bundle.native`: an ELF object's
`DT_NEEDED`, a module's ctypes lookups) are remembered by digest the same way, and so is what
discovery reads in a handler module (`derived`: its `handler` line and the triggers each kind
found), so a no-op parses no handler and an edit parses the one edited.

Limits (the ones git's index has): a change that leaves size, mtime, ctime and inode all equal
goes unseen. Writing a file always sets its ctime to the kernel's clock, so that takes a
write within one timestamp tick of the hash, or a clock set back. Against the first, a digest
is not remembered when the file changed shortly before it was hashed (2 s on filesystems with
whole-second timestamps, 50 ms otherwise): it is hashed again next run. Writes through
`mmap` that never update mtime are not seen either.

`facts/v<LAYOUT>.json` is a cache object like the others: sealed by the sha256 of its body; a
damaged one is reported and discarded (planning then reads everything, and writes it anew).
Concurrent runs may both write it; the later rename wins and both versions are true.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lambdapress.support import files
from lambdapress.support.integrity import file_digest

LAYOUT_VERSION = 1
_FINE_WINDOW_NS = 50_000_000
_COARSE_WINDOW_NS = 2_000_000_000
_MAX_IMPORTS = 50_000  # remembered analyses kept at most (old ones dropped when saving)
_MAX_NATIVE = 50_000
_MAX_DERIVED = 50_000

Stat = tuple[int, int, int, int]
ImportFacts = list[tuple[str, int, bool]]  # name, line, optional


def path(cache: Path) -> Path:
    """Where the facts of this cache live."""
    return cache / "facts" / f"v{LAYOUT_VERSION}.json"


class FileFacts:
    """Digests and import analyses of files, loaded once per run and saved at its end."""

    def __init__(self, cache: Path | None = None) -> None:
        self._path = path(cache) if cache is not None else None
        self._lock = threading.Lock()
        self._digests: dict[str, tuple[Stat, str]] = {}
        self._imports: dict[str, ImportFacts] = {}
        self._native: dict[str, Any] = {}
        self._derived: dict[str, Any] = {}
        self._seen: dict[str, str] = {}  # this run: path -> digest, each file stat'ed once
        self._changed = False
        self.warnings: list[str] = []
        self.hashed = 0  # files read and hashed in this run (for tests and the bench)
        self.parsed = 0  # modules parsed in this run

    @property
    def folder(self) -> Path | None:
        """The folder these facts are kept in (None for facts of one run only)."""
        return self._path.parent if self._path is not None else None

    @classmethod
    def load(cache: type[FileFacts], folder: Path) -> FileFacts:
        """The facts kept in `folder`, or none (with a warning when they were damaged)."""
        facts = cache(folder)
        assert facts._path is not None
        try:
            document = json.loads(facts._path.read_bytes())
            body = document["body"]
            sealed = hashlib.sha256(_canonical(body)).hexdigest()
            if sealed != document["sha256"]:
                raise ValueError("changed after it was written")
            facts._digests = {
                name: ((s[0], s[1], s[2], s[3]), d) for name, (s, d) in body["digests"].items()
            }
            facts._imports = {
                key: [(n, line, bool(o)) for n, line, o in refs]
                for key, refs in body["imports"].items()
            }
            facts._native = dict(body.get("native", {}))  # absent in facts of older versions
            facts._derived = dict(body.get("derived", {}))
        except FileNotFoundError:
            pass
        except (
            OSError,
            ValueError,
            KeyError,
            TypeError,
            IndexError,
            AttributeError,
            RecursionError,  # not ours: a JSON nested deeper than Python parses
        ) as error:
            facts.warnings.append(
                f"the planning cache {facts._path} is damaged ({error}): discarded, every file "
                "is read again"
            )
            files.discard(facts._path)
            facts._digests, facts._imports, facts._native, facts._derived = {}, {}, {}, {}
        return facts

    def digest(self, file: Path) -> str:
        """The sha256 of `file`'s bytes: remembered while its stat is the same, else read."""
        key = str(file)
        with self._lock:
            seen = self._seen.get(key)
        if seen is not None:
            return seen
        before = file.stat()
        known = self._digests.get(key)
        if known is not None and known[0] == _stat(before):
            digest = known[1]
        else:
            digest = file_digest(file)
            hashed_at = time.time_ns()
            # ctime shows the filesystem's granularity (nobody can set it to a round value)
            window = _COARSE_WINDOW_NS if before.st_ctime_ns % 10**9 == 0 else _FINE_WINDOW_NS
            racy = max(before.st_mtime_ns, before.st_ctime_ns) > hashed_at - window
            with self._lock:
                self.hashed += 1
                if racy:  # changed within a tick of the hash: a later write could hide
                    self._digests.pop(key, None)
                else:
                    self._digests[key] = (_stat(before), digest)
                self._changed = True
        with self._lock:
            self._seen[key] = digest
        return digest

    def remember(self, file: Path, digest: str) -> None:
        """Record `digest` for `file` as it is now: a file this run wrote and checked itself."""
        status = file.stat()
        with self._lock:
            self._seen[str(file)] = digest
            self._digests[str(file)] = (_stat(status), digest)
            self._changed = True

    def imports(self, file: Path, key: str, analyse: Callable[[], ImportFacts]) -> ImportFacts:
        """The import analysis of `file` for `key` (its module's name and kind), by digest."""
        remembered = f"{self.digest(file)}:{key}"
        with self._lock:
            found = self._imports.get(remembered)
        if found is not None:
            return found
        result = analyse()
        with self._lock:
            self.parsed += 1
            self._imports[remembered] = result
            self._changed = True
        return result

    def native(self, key: str, analyse: Callable[[], Any]) -> Any:
        """The native-library facts named `key` (a content digest and what was analysed).

        `analyse` runs only when they are not remembered; what it returns must be JSON.
        """
        with self._lock:
            found = self._native.get(key)
        if found is not None:
            return found
        result = analyse()
        with self._lock:
            self._native[key] = result
            self._changed = True
        return result

    def derived(self, file: Path, key: str) -> Any:
        """What was derived from `file`'s bytes as they are now under `key`, or None.

        The caller checks what it gets (a remembered value is data, not trusted code) and
        derives it again when it does not fit; `derive` records the new value.
        """
        remembered = f"{self.digest(file)}:{key}"
        with self._lock:
            return self._derived.get(remembered)

    def derive(self, file: Path, key: str, value: Any) -> None:
        """Remember `value` (JSON), derived from `file`'s bytes, under `key`.

        The digest is the one `derived` saw this run (the bytes the caller then read), so an
        edit in between is filed under the old bytes and never returned for the new ones.
        """
        remembered = f"{self.digest(file)}:{key}"
        with self._lock:
            self._derived[remembered] = value
            self._changed = True

    def save(self) -> None:
        """Write what this run learnt (nothing when it learnt nothing)."""
        if self._path is None or not self._changed:
            return
        with self._lock:
            imports = self._imports
            if len(imports) > _MAX_IMPORTS:
                imports = dict(list(imports.items())[-_MAX_IMPORTS:])
            native = self._native
            if len(native) > _MAX_NATIVE:
                native = dict(list(native.items())[-_MAX_NATIVE:])
            derived = self._derived
            if len(derived) > _MAX_DERIVED:
                derived = dict(list(derived.items())[-_MAX_DERIVED:])
            body: dict[str, Any] = {
                "digests": {name: [list(s), d] for name, (s, d) in self._digests.items()},
                "imports": {key: [list(r) for r in refs] for key, refs in imports.items()},
                "native": native,
                "derived": derived,
            }
            self._changed = False
        encoded = _canonical(body)
        document = {"sha256": hashlib.sha256(encoded).hexdigest(), "body": body}
        files.write_text(self._path, json.dumps(document, separators=(",", ":")))


def _stat(status: os.stat_result) -> Stat:
    return (status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)


def _canonical(body: Any) -> bytes:
    return json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
