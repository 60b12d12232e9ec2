"""A thin, typed wrapper over boto3's S3 client: the four calls the shared build cache makes.

Only `shared_cache` imports this module, and only when a shared cache is configured, so a
build without one never loads boto3. boto3's own errors are translated into two outcomes the
caller can act on: an object that is not there (`None`/False: a cache miss) and a store that
cannot be used (`StoreUnavailable`: no credentials, no such bucket, access denied, no network),
whose message names the URL and the fix. Credentials come from boto3's usual chain (variables,
profile, SSO, instance role) and are never read or printed here.

A store that does not answer is as unusable as one that refuses: every request has a connect
and a read timeout of a few seconds and one retry, and every step reports to a `Progress`
(see `transfers`), so the caller stops waiting for a store that trickles, and a transfer given
up on stops at its next chunk.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import boto3
import urllib3.exceptions
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectTimeoutError,
    IncompleteReadError,
    ReadTimeoutError,
    ResponseStreamingError,
)
from botocore.parsers import ResponseParserError

from lambdapress.bundle.transfers import Progress

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

CONNECT_TIMEOUT = 3
READ_TIMEOUT = 5
"""Seconds: a store that does not answer a request (or stops sending) for this long is down."""
# A cache that only saves time must fail over to a local build in seconds, not in botocore's
# defaults (60 s timeouts, up to 5 attempts): one retry, for a connection reset or a throttle.
_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"total_max_attempts": 2, "mode": "standard"},
    max_pool_connections=16,
)
# Uploads are not retried: a retry sends the body again, which looks like progress while the
# store has not answered the first one, and a lost upload only loses sharing, never a build.
_UPLOAD_CONFIG = _CONFIG.merge(Config(retries={"total_max_attempts": 1, "mode": "standard"}))
CHUNK = 64 * 1024
"""Bytes asked of the socket at a time, and what counts as progress: each 64 KiB received or
sent (a store slower than that for `shared_cache.STALL` seconds is given up on)."""
RECORD_LIMIT = 64 * 1024
"""A record is a few hundred bytes: anything larger is not one, and is not read whole."""
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_FIXES = {
    "NoSuchBucket": "create the bucket, or correct the URL",
    "AccessDenied": "allow s3:GetObject and s3:PutObject on the prefix and s3:ListBucket on "
    "the bucket to your AWS identity (see the README), or use another profile",
    "InvalidAccessKeyId": "configure valid AWS credentials (AWS_PROFILE, aws sso login...)",
    "SignatureDoesNotMatch": "configure valid AWS credentials (AWS_PROFILE, aws sso login...)",
    "ExpiredToken": "refresh your AWS credentials (aws sso login...)",
}
_TIMEOUTS = (
    ReadTimeoutError,
    ConnectTimeoutError,
    TimeoutError,
    urllib3.exceptions.ReadTimeoutError,
    urllib3.exceptions.ConnectTimeoutError,
)
_FAILING = "the store is failing: try again later, or pass --no-remote-cache"
_SLOW = "check the network (or AWS_ENDPOINT_URL), or pass --no-remote-cache"


class StoreUnavailable(Exception):
    """The store cannot be used at all: every later call would fail the same way."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class S3Store:
    """Objects of one bucket, read and written by key; thread-safe (boto3 clients are)."""

    def __init__(self, bucket: str, url: str) -> None:
        self.bucket = bucket
        self.url = url
        try:
            session = boto3.session.Session()
            self._client: S3Client = session.client("s3", config=_CONFIG)
            self._uploader: S3Client = session.client("s3", config=_UPLOAD_CONFIG)
        except BotoCoreError as exc:  # a profile that does not exist, a bad config file
            raise StoreUnavailable(
                f"cannot use {url}: {exc}", "check AWS_PROFILE and ~/.aws/config"
            ) from None

    def read(self, key: str, progress: Progress) -> bytes | None:
        """The whole object (a small one: past `RECORD_LIMIT`, its start), or None if missing."""
        received = bytearray()

        def keep(chunk: bytes) -> None:
            received.extend(chunk)

        size = self._get(key, progress, keep, limit=RECORD_LIMIT)
        return None if size is None else bytes(received)

    def download(self, key: str, out: IO[bytes], progress: Progress) -> tuple[int, str] | None:
        """Stream the object into `out`: its (size, sha256), or None when it does not exist."""
        digest = hashlib.sha256()

        def keep(chunk: bytes) -> None:
            digest.update(chunk)
            out.write(chunk)

        size = self._get(key, progress, keep)
        return None if size is None else (size, digest.hexdigest())

    def upload(self, key: str, path: Path, progress: Progress) -> None:
        """Put the file at `path` under `key` (replacing any object there)."""
        with path.open("rb") as body:
            self._put(key, _Reporting(body, progress), progress)

    def write(self, key: str, data: bytes, progress: Progress) -> None:
        """Put `data` under `key` (replacing any object there)."""
        self._put(key, data, progress)

    def _get(
        self, key: str, progress: Progress, keep: Callable[[bytes], None], limit: int = 0
    ) -> int | None:
        """Feed the object to `keep` chunk by chunk: its size (past `limit`: stopped there).

        Each chunk is one read of the socket (`read1`), so a store that trickles bytes is
        seen as silent by `progress` and given up on, instead of filling a large buffer for
        minutes one byte at a time.
        """
        size = unreported = 0
        try:
            progress.check()
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            body, announced = response["Body"], response.get("ContentLength")
            progress.beat("receiving")
            read = _reader(body)
            while chunk := read(CHUNK):
                progress.check()
                size += len(chunk)
                keep(chunk)
                unreported += len(chunk)
                if unreported >= CHUNK:
                    progress.beat("receiving")
                    unreported = 0
                if limit and size > limit:
                    body.close()
                    return size
        except (ClientError, BotoCoreError) as exc:
            self._raise_unless_missing(exc)
            return None
        except (urllib3.exceptions.HTTPError, OSError, ResponseParserError) as exc:
            raise self._unavailable(exc) from None  # read past botocore's wrapper, or garbage
        if announced is not None and size != announced:
            raise StoreUnavailable(
                f"{self.url} cut an object short ({size} of {announced} bytes, then the "
                "connection closed)",
                _FAILING,
            )
        return size

    def _put(self, key: str, body: _Reporting | bytes, progress: Progress) -> None:
        try:
            progress.check()
            self._uploader.put_object(Bucket=self.bucket, Key=key, Body=body)  # type: ignore[arg-type]
            progress.beat()
        except (ClientError, BotoCoreError, ResponseParserError) as exc:
            raise self._unavailable(exc) from None

    def _raise_unless_missing(self, exc: ClientError | BotoCoreError) -> None:
        """A missing object is a cache miss; anything else means the store is unusable."""
        if not (isinstance(exc, ClientError) and _code(exc) in _MISSING):
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: Exception) -> StoreUnavailable:
        if isinstance(exc, ClientError):
            code = _code(exc)
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
            if status >= 500:
                return StoreUnavailable(f"{self.url} answered HTTP {status} ({code})", _FAILING)
            return StoreUnavailable(
                f"{self.url} refused the request ({code})",
                _FIXES.get(code, "check the bucket, its region and your AWS identity"),
            )
        if isinstance(exc, _TIMEOUTS):
            waited = CONNECT_TIMEOUT if "connect" in type(exc).__name__.lower() else READ_TIMEOUT
            return StoreUnavailable(f"{self.url} did not answer within {waited} s", _SLOW)
        if isinstance(
            exc, (IncompleteReadError, ResponseStreamingError, urllib3.exceptions.ProtocolError)
        ):
            return StoreUnavailable(
                f"{self.url} cut an object short (the connection closed mid-transfer)", _FAILING
            )
        if isinstance(exc, ResponseParserError):
            return StoreUnavailable(f"{self.url} answered something that is not S3's", _SLOW)
        name = type(exc).__name__
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return StoreUnavailable(
                f"no AWS credentials to reach {self.url}",
                "configure AWS credentials (AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID...)",
            )
        return StoreUnavailable(f"cannot reach {self.url} ({name})", _SLOW)


class _Reporting:
    """A file handed to boto3 as a request body: each read of it counts as progress.

    boto3 reads the body to checksum it, then again to send it (seeking back in between);
    a store that stops reading blocks the send, and the silence shows.
    """

    def __init__(self, file: IO[bytes], progress: Progress) -> None:
        self._file = file
        self._progress = progress
        self._unreported = 0

    def read(self, size: int = -1) -> bytes:
        self._progress.check()
        data = self._file.read(size)
        self._unreported += len(data)
        if self._unreported >= CHUNK or not data:
            self._progress.beat("sending")
            self._unreported = 0
        return data

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._file.seek(offset, whence)

    def tell(self) -> int:
        return self._file.tell()


def _reader(body: Any) -> Callable[[int], bytes]:
    """`read1` of the HTTP response under boto3's body (one socket read per call).

    boto3's `StreamingBody.read(n)` waits for `n` bytes (or the end): a trickling store would
    hold it for as long as it likes. urllib3's `read1` returns what one read brought; its
    own checks (the content length) still apply, and the size and digest are checked against
    the record afterwards. Without it (another HTTP layer), boto3's own `read`.
    """
    raw = getattr(body, "_raw_stream", None)
    read1 = getattr(raw, "read1", None)
    return read1 if callable(read1) else body.read  # type: ignore[no-any-return]


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "error"))
