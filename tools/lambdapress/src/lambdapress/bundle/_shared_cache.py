"""The shared build cache: built zips fetched from and sent to S3, by inputs hash.

`s3://<bucket>/<prefix>/artifacts/<inputs-hash>.zip` and `<inputs-hash>.json` mirror the local
artifact cache (`artifacts`): the record holds the zip's sha256 and size. A function the local
cache lacks is looked up there before it is built; a hit is streamed into the local cache,
hashed as it arrives and compared with its record, and only a zip that matches is renamed into
place (after its local record, as `artifacts` requires). A zip that does not match is discarded
with a warning and rebuilt; the rebuilt zip and its record are then uploaded over the bad pair
(so no s3:DeleteObject permission is needed). Uploads send the zip first and the record last:
a reader that finds a record finds its zip.

A shared cache only saves time, so it never fails a build, nor holds one up: the first time
the store cannot be used (no credentials, no bucket, access denied, network down, an HTTP 5xx,
an object cut short, or no progress for `STALL` seconds: a store that hangs or trickles) that
is reported once as a warning, and the rest of the run builds and keeps zips locally without
asking S3 again. Lookups and uploads run on a few daemon threads (boto3 clients are
thread-safe) that the run waits for only while they make progress (`transfers`), so neither a
silent store nor a SIGINT/SIGTERM during the wait keeps the process alive. boto3 is imported
only when there is something to look up or upload.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from pydantic import ValidationError

from lambdapress.bundle import _artifacts
from lambdapress.bundle._remote_config import RemoteCache
from lambdapress.bundle.plan import BundlePlan
from lambdapress.bundle.transfers import Cancelled, Progress, Round, run_round
from lambdapress.support import files

if TYPE_CHECKING:
    from lambdapress.bundle._remote_cache import S3Store

_Result = TypeVar("_Result")
_SLOW_FIX = "check the network (or AWS_ENDPOINT_URL), or pass --no-remote-cache"

NETWORK_JOBS = 8
"""Transfers at once: they wait on the network, not on the CPU."""
STALL = 6.0
"""Seconds a transfer may go without progress (an answer, a 64 KiB chunk) before the store is
given up on for the run: a store that hangs, or trickles, costs this long and no more."""
OVERALL = 300.0
"""Seconds a round of lookups (or of uploads) may take in all: past that, building here is
faster than waiting on a store that moves, but barely."""


@dataclass(frozen=True)
class Fetched:
    """What a round of lookups brought: hashes now in the local cache, and warnings.

    `available` is False when the store did not answer: the run does not try to upload either.
    """

    found: frozenset[str]
    warnings: tuple[str, ...]
    available: bool


def fetch(remote: RemoteCache, cache: Path, hashes: Iterable[str]) -> Fetched:
    """Download the zips of `hashes` that the shared cache holds (each verified) into `cache`."""
    wanted = sorted(set(hashes))
    if not wanted:
        return Fetched(frozenset(), (), available=True)
    session = _Session(remote, cache)
    hits = session.run(session.fetch, wanted)
    found = frozenset(wanted[index] for index, hit in hits.results.items() if hit)
    return Fetched(found, tuple(session.warnings), available=not session.down)


def upload(remote: RemoteCache, cache: Path, hashes: Iterable[str]) -> list[str]:
    """Send the locally built zips of `hashes` (each checked first) and their records to S3."""
    wanted = sorted(set(hashes))
    if not wanted:
        return []
    session = _Session(remote, cache)
    session.run(session.upload, wanted)
    return session.warnings


def fetch_for_plan(plan: BundlePlan, remote: RemoteCache | None) -> BundlePlan:
    """Fetch what `plan` would build from the shared cache; those functions become "remote".

    The plan keeps the shared cache for uploads unless it proved unreachable.
    """
    if remote is None:
        return plan
    fetched = fetch(
        remote, plan.cache, (f.inputs_hash for f in plan.functions if f.status == "build")
    )
    functions = tuple(
        f.model_copy(update={"status": "remote"}) if f.inputs_hash in fetched.found else f
        for f in plan.functions
    )
    update = {
        "functions": functions,
        "warnings": (*plan.warnings, *fetched.warnings),
        "remote": remote if fetched.available else None,
    }
    return plan.model_copy(update=update)


def upload_for_plan(plan: BundlePlan, rebuilt: set[str]) -> list[str]:
    """Share the zips of the functions (by name) a run of `plan` built; problems are warnings."""
    if plan.remote is None:
        return []
    built = (f.inputs_hash for f in plan.functions if f.name in rebuilt)
    return upload(plan.remote, plan.cache, built)


class _Mismatch(Exception):
    """The downloaded bytes are not those the record describes."""


class _Missing(Exception):
    """The zip a record names is not in the store (nothing is renamed into place)."""


class _Session:
    """One run's use of the store: its warnings, and whether it is still worth asking."""

    def __init__(self, remote: RemoteCache, cache: Path) -> None:
        self.remote = remote
        self.cache = cache
        self.warnings: list[str] = []
        self._lock = threading.Lock()
        self.down = False
        self._store: S3Store | None = None

    def run(
        self, job: Callable[[str, Progress], _Result], hashes: list[str]
    ) -> Round[str, _Result]:
        """`job` for every hash, on daemon threads; a silent or endless round gives up."""
        done = run_round(job, hashes, NETWORK_JOBS, stall=STALL, overall=OVERALL)
        if done.stalled == "receiving":
            self._give_up(
                f"{self.remote.url} answered too slowly (under 64 KiB in {STALL:.0f} s)",
                _SLOW_FIX,
            )
        elif done.stalled:
            self._give_up(f"{self.remote.url} did not answer within {STALL:.0f} s", _SLOW_FIX)
        elif done.overran:
            self._give_up(f"{self.remote.url} took over {OVERALL:.0f} s in all", _SLOW_FIX)
        return done

    def fetch(self, inputs_hash: str, progress: Progress) -> bool:
        """Whether the zip of `inputs_hash` came from the store and is now in the local cache."""
        from lambdapress.bundle._remote_cache import StoreUnavailable

        try:
            return self._fetch(inputs_hash, progress)
        except StoreUnavailable as exc:
            self._give_up(exc.message, exc.fix)
        except Cancelled:  # the round was given up on: nothing was put in place
            pass
        return False

    def upload(self, inputs_hash: str, progress: Progress) -> None:
        """Send one locally built zip, then its record."""
        from lambdapress.bundle._remote_cache import StoreUnavailable

        try:
            self._upload(inputs_hash, progress)
        except StoreUnavailable as exc:
            self._give_up(exc.message, exc.fix)
        except Cancelled:  # the round was given up on: a zip without its record is no entry
            pass

    def _fetch(self, inputs_hash: str, progress: Progress) -> bool:
        store = self._connect()
        if store is None:
            return False
        key = self.remote.key
        data = store.read(key(f"{inputs_hash}.json"), progress)
        if data is None:
            return False
        try:
            record = _artifacts.ArtifactRecord.model_validate_json(data)
        except ValidationError:
            self._warn(
                f"{self._url(inputs_hash, 'json')} is not a valid record: ignored; the zip is "
                "built here and uploaded over it"
            )
            return False
        try:
            with files.replacing(_artifacts.zip_path(self.cache, inputs_hash)) as temporary:
                with temporary.open("wb") as out:
                    got = store.download(key(f"{inputs_hash}.zip"), out, progress)
                if got is None:  # a record without its zip: someone removed the zip
                    raise _Missing
                if got != (record.size, record.sha256):
                    raise _Mismatch
                progress.check()  # given up on meanwhile: the local build owns the entry now
                _artifacts.write_record(self.cache, inputs_hash, record.archive())
        except _Missing:
            return False
        except _Mismatch:
            self._warn(
                f"{self._url(inputs_hash, 'zip')} does not match its record (changed or "
                "truncated after it was uploaded): discarded, built here and uploaded over it"
            )
            return False
        return True

    def _upload(self, inputs_hash: str, progress: Progress) -> None:
        found = _artifacts.lookup(self.cache, inputs_hash)
        if found.archive is None:  # gone or damaged since it was built: never share it
            return
        store = self._connect()
        if store is None:
            return
        record = _artifacts.record_path(self.cache, inputs_hash).read_bytes()
        zip_file = _artifacts.zip_path(self.cache, inputs_hash)
        store.upload(self.remote.key(f"{inputs_hash}.zip"), zip_file, progress)
        store.write(self.remote.key(f"{inputs_hash}.json"), record, progress)

    def _connect(self) -> S3Store | None:
        """The store, created once (that imports boto3); None once it proved unusable."""
        from lambdapress.bundle._remote_cache import S3Store

        with self._lock:
            if self.down:
                return None
            if self._store is None:
                self._store = S3Store(self.remote.bucket, self.remote.url)
            return self._store

    def _give_up(self, message: str, fix: str) -> None:
        with self._lock:
            if self.down:
                return
            self.down = True
            self.warnings.append(
                f"shared build cache unavailable: {message} (configured in "
                f"{self.remote.origin}); building locally. Fix: {fix}"
            )

    def _warn(self, message: str) -> None:
        with self._lock:
            self.warnings.append(message)

    def _url(self, inputs_hash: str, suffix: str) -> str:
        return f"s3://{self.remote.bucket}/{self.remote.key(f'{inputs_hash}.{suffix}')}"
