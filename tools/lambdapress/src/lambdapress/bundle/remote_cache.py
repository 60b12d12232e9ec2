"""A thin, typed wrapper over boto3's S3 client: the four calls the shared build cache makes.

Only `shared_cache` imports this module, and only when a shared cache is configured, so a
build without one never loads boto3. boto3's own errors are translated into two outcomes the
caller can act on: an object that is not there (`None`/False: a cache miss) and a store that
cannot be used (`StoreUnavailable`: no credentials, no such bucket, access denied, no network),
whose message names the URL and the fix. Credentials come from boto3's usual chain (variables,
profile, SSO, instance role) and are never read or printed here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import IO, TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from lambdapress.integrity import CHUNK

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

# Fail over to a local build quickly when the store is down, instead of botocore's defaults
# (60 s connect timeout, up to 5 attempts).
_CONFIG = Config(
    connect_timeout=5,
    read_timeout=60,
    retries={"max_attempts": 3, "mode": "standard"},
    max_pool_connections=16,
)
_MISSING = frozenset({"NoSuchKey", "404", "NotFound"})
_FIXES = {
    "NoSuchBucket": "create the bucket, or correct the URL",
    "AccessDenied": "allow s3:GetObject and s3:PutObject on the prefix and s3:ListBucket on "
    "the bucket to your AWS identity (see the README), or use another profile",
    "InvalidAccessKeyId": "configure valid AWS credentials (AWS_PROFILE, aws sso login...)",
    "SignatureDoesNotMatch": "configure valid AWS credentials (AWS_PROFILE, aws sso login...)",
    "ExpiredToken": "refresh your AWS credentials (aws sso login...)",
}


class StoreUnavailable(Exception):
    """The store cannot be used at all: every later call would fail the same way."""

    def __init__(self, message: str, fix: str) -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class S3Store:
    """Objects of one bucket, read and written by key; thread-safe (one boto3 client)."""

    def __init__(self, bucket: str, url: str) -> None:
        self.bucket = bucket
        self.url = url
        try:
            self._client: S3Client = boto3.session.Session().client("s3", config=_CONFIG)
        except BotoCoreError as exc:  # a profile that does not exist, a bad config file
            raise StoreUnavailable(
                f"cannot use {url}: {exc}", "check AWS_PROFILE and ~/.aws/config"
            ) from None

    def read(self, key: str) -> bytes | None:
        """The whole object (a small one), or None when it does not exist."""
        try:
            response = self._client.get_object(Bucket=self.bucket, Key=key)
            return response["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            self._raise_unless_missing(exc)
            return None

    def download(self, key: str, out: IO[bytes]) -> tuple[int, str] | None:
        """Stream the object into `out`: its (size, sha256), or None when it does not exist."""
        digest = hashlib.sha256()
        size = 0
        try:
            body = self._client.get_object(Bucket=self.bucket, Key=key)["Body"]
            while chunk := body.read(CHUNK):
                digest.update(chunk)
                size += len(chunk)
                out.write(chunk)
        except (ClientError, BotoCoreError) as exc:
            self._raise_unless_missing(exc)
            return None
        return size, digest.hexdigest()

    def upload(self, key: str, path: Path) -> None:
        """Put the file at `path` under `key` (replacing any object there)."""
        with path.open("rb") as body:
            self._put(key, body)

    def write(self, key: str, data: bytes) -> None:
        """Put `data` under `key` (replacing any object there)."""
        self._put(key, data)

    def _put(self, key: str, body: IO[bytes] | bytes) -> None:
        try:
            self._client.put_object(Bucket=self.bucket, Key=key, Body=body)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc) from None

    def _raise_unless_missing(self, exc: ClientError | BotoCoreError) -> None:
        """A missing object is a cache miss; anything else means the store is unusable."""
        if not (isinstance(exc, ClientError) and _code(exc) in _MISSING):
            raise self._unavailable(exc) from None

    def _unavailable(self, exc: ClientError | BotoCoreError) -> StoreUnavailable:
        if isinstance(exc, ClientError):
            code = _code(exc)
            return StoreUnavailable(
                f"{self.url} refused the request ({code})",
                _FIXES.get(code, "check the bucket, its region and your AWS identity"),
            )
        name = type(exc).__name__
        if name in ("NoCredentialsError", "PartialCredentialsError"):
            return StoreUnavailable(
                f"no AWS credentials to reach {self.url}",
                "configure AWS credentials (AWS_PROFILE, aws sso login, or AWS_ACCESS_KEY_ID...)",
            )
        return StoreUnavailable(
            f"cannot reach {self.url} ({name})",
            "check the network (or AWS_ENDPOINT_URL), or pass --no-remote-cache",
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", "error"))
