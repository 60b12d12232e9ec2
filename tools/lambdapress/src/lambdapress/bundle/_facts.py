"""What planning learns about files, kept between runs: digests by stat, imports by digest.

A no-op `package` at N=200 would otherwise read and hash every first-party file once per
function, parse every module once per function that reaches it, and hash every zip in dist/.
Here a file's sha256 is remembered with its stat (size, mtime_ns, inode, ctime_ns) and reused
while the stat is the same; a module's imports are remembered by its digest (and name), so an
unchanged module is never parsed again, and a touched-but-identical one only re-hashed. The
native-library facts of a file or an installed distribution (`bundle.native`: an ELF object's
`DT_NEEDED`, a module's ctypes lookups) are remembered by digest the same way. What else is
worked out from one file's bytes is `derived`, the latest value per file and key, checked
against the file's digest: what discovery reads in a handler module (its `handler` line and
the triggers each kind found), what a zip in dist/ holds, which model the manifest renders and
the artifacts it lists. So a no-op parses no handler and no manifest, reads no zip, and an
edit parses the one module edited.

Limits (the ones git's index has): a change that leaves size, mtime, ctime and inode all equal
goes unseen. Writing a file always sets its ctime to the kernel's clock, so that takes a
write within one timestamp tick of the hash, or a clock set back. Against the first, a digest
is not remembered when the file changed shortly before it was hashed (2 s on filesystems with
whole-second timestamps, 50 ms otherwise): it is hashed again next run. Writes through
`mmap` that never update mtime are not seen either.

`facts/v<LAYOUT>.json` is a cache object like the others: sealed by the sha256 of its body's
bytes as written (`seal`: checked on those bytes, before they are parsed); a damaged one is
reported and discarded (planning then reads everything, and writes it anew). Concurrent runs
may both write it; the later rename wins and both versions are true. Within one process
(`package` plans, then executes; `serve` rebuilds) the facts a run saved or loaded are kept,
and taken again while the file's stat is the one they were saved or read with.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdapress.support import files
from lambdapress.support.integrity import file_digest

LAYOUT_VERSION = 2  # 2: sealed on the body's bytes as written (1: on a sorted re-encoding)
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
        if facts._take_kept():
            return facts
        try:
            before = facts._path.stat()
            data = facts._path.read_bytes()
            body = unsealed(data)
            facts._digests = {
                name: ((s[0], s[1], s[2], s[3]), d) for name, (s, d) in body["digests"].items()
            }
            facts._imports = {
                key: [(n, line, bool(o)) for n, line, o in refs]
                for key, refs in body["imports"].items()
            }
            facts._native = dict(body["native"])
            facts._derived = dict(body["derived"])
            if _stat(facts._path.stat()) == _stat(before):  # read whole, as it was: keep it
                facts._keep(_stat(before))
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

    def forget(self, file: Path) -> None:
        """Forget `file`'s digest: this run just wrote it (it is read again when asked)."""
        with self._lock:
            self._seen.pop(str(file), None)
            if self._digests.pop(str(file), None) is not None:
                self._changed = True

    def derived(self, file: Path, key: str) -> Any:
        """What was derived under `key` from `file`'s bytes as they are now, or None.

        One value per file and key, the latest: a manifest or a zip rewritten by every edit
        leaves no trail of what its older bytes held. The caller checks what it gets (a
        remembered value is data, not trusted code) and derives it again when it does not fit;
        `derive` records the new value.
        """
        digest = self.digest(file)
        with self._lock:
            slot = self._derived.get(f"{key}:{file}")
        if isinstance(slot, list) and len(slot) == 2 and slot[0] == digest:
            return slot[1]
        return None

    def derive(self, file: Path, key: str, value: Any) -> None:
        """Remember `value` (JSON), derived from `file`'s bytes, under `key`.

        The digest is the one `derived` saw this run (the bytes the caller then read), so an
        edit in between is filed under the old bytes and never returned for the new ones.
        """
        digest = self.digest(file)
        slot = f"{key}:{file}"
        with self._lock:
            self._derived.pop(slot, None)  # to the end: the least recently derived go first
            self._derived[slot] = [digest, value]
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
            self._imports, self._native, self._derived = imports, native, derived
            body: dict[str, Any] = {
                "digests": {name: [list(s), d] for name, (s, d) in self._digests.items()},
                "imports": {key: [list(r) for r in refs] for key, refs in imports.items()},
                "native": native,
                "derived": derived,
            }
            self._changed = False
        written = seal(body)
        files.write_bytes(self._path, written)
        with contextlib.suppress(OSError):  # replaced already: the next load reads it
            status = self._path.stat()
            if status.st_size == len(written):
                self._keep(_stat(status))

    def _keep(self, status: Stat) -> None:
        """Keep these facts for this process, as the file with `status` holds them."""
        assert self._path is not None
        with self._lock:
            state = _Kept(
                status,
                dict(self._digests),
                dict(self._imports),
                dict(self._native),
                dict(self._derived),
            )
        with _KEPT_LOCK:
            _KEPT[self._path] = state

    def _take_kept(self) -> bool:
        """Take the facts kept in this process, if the file is still the one they came from."""
        assert self._path is not None
        with _KEPT_LOCK:
            kept = _KEPT.get(self._path)
        if kept is None:
            return False
        try:
            if _stat(self._path.stat()) != kept.status:
                return False
        except OSError:
            return False
        self._digests, self._imports = dict(kept.digests), dict(kept.imports)
        self._native, self._derived = dict(kept.native), dict(kept.derived)
        return True


@dataclass(frozen=True)
class _Kept:
    status: Stat
    digests: dict[str, tuple[Stat, str]]
    imports: dict[str, ImportFacts]
    native: dict[str, Any]
    derived: dict[str, Any]


_KEPT: dict[Path, _Kept] = {}
_KEPT_LOCK = threading.Lock()
_SEALED = (b'{"sha256":"', b'","body":', b"}")


def seal(body: dict[str, Any]) -> bytes:
    """The file's bytes for `body`: its JSON, and the sha256 of exactly those bytes.

    In insertion order (not sorted): the analyses dropped past the limits are the oldest.
    """
    encoded = json.dumps(body, separators=(",", ":")).encode()
    digest = hashlib.sha256(encoded).hexdigest().encode()
    return _SEALED[0] + digest + _SEALED[1] + encoded + _SEALED[2]


def unsealed(data: bytes) -> Any:
    """The body `seal` wrote into `data`.

    ValueError when `data` is not such a file, or was changed after it was written (checked on
    the bytes, before anything is parsed).
    """
    head, middle, tail = _SEALED
    start = len(head) + 64 + len(middle)
    if not (data.startswith(head) and data[len(head) + 64 : start] == middle):
        raise ValueError("not a sealed planning cache")
    if not data.endswith(tail) or len(data) < start + len(tail):
        raise ValueError("cut short")
    encoded = data[start : -len(tail)]
    if hashlib.sha256(encoded).hexdigest().encode() != data[len(head) : len(head) + 64]:
        raise ValueError("changed after it was written")
    return json.loads(encoded)


def _stat(status: os.stat_result) -> Stat:
    return (status.st_size, status.st_mtime_ns, status.st_ino, status.st_ctime_ns)
