"""Where the shared build cache lives: `[tool.lambdapress.cache] url` or `LAMBDAPRESS_CACHE_URL`.

```toml
[tool.lambdapress.cache]          # in the root pyproject.toml
url = "s3://acme-build-cache/lambdapress"
```

The environment variable wins over the file, so CI can point at its own bucket (or a laptop at
none: `LAMBDAPRESS_CACHE_URL=""` turns the file's cache off). Reading the setting never imports
boto3: a build without a shared cache loads no AWS code at all. A malformed URL is the user's
mistake and an error; an unreachable bucket is only a lost optimisation (see `shared_cache`).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

from lambdapress.config.aws_rules import is_bucket_name
from lambdapress.config.pyproject import PYPROJECT, get_table, load_toml
from lambdapress.config.validation import Source, config_error
from lambdapress.errors import ConfigError

TABLE = "tool.lambdapress.cache"
ENVIRONMENT = "LAMBDAPRESS_CACHE_URL"
EXAMPLE = "s3://my-bucket/lambdapress (a bucket name, then an optional prefix)"
# S3's bucket naming rules: 3-63 lowercase letters, digits, dots and dashes.


class RemoteCache(BaseModel):
    """A shared cache in S3: built zips under `s3://<bucket>/<prefix>/artifacts/`."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    prefix: str
    """Without leading or trailing slashes; empty for the bucket's top."""
    origin: str
    """Where the URL was configured (the pyproject or the variable), for messages."""

    @property
    def url(self) -> str:
        """The URL as configured, normalised (`s3://bucket/prefix`)."""
        return f"s3://{self.bucket}/{self.prefix}" if self.prefix else f"s3://{self.bucket}"

    def key(self, name: str) -> str:
        """The object key of `name` (`<hash>.zip`, `<hash>.json`) in the cache."""
        return f"{self.prefix}/artifacts/{name}" if self.prefix else f"artifacts/{name}"


class _CacheTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)

    url: str

    @field_validator("url")
    @classmethod
    def _check_url(cls, value: str) -> str:
        split_url(value)
        return value


def split_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix/` -> ("bucket", "some/prefix"); ValueError when it is not one."""
    if not url.startswith("s3://"):
        raise ValueError("not an s3:// URL")
    bucket, _, prefix = url.removeprefix("s3://").partition("/")
    if not is_bucket_name(bucket):
        raise ValueError(f"{bucket!r} is not an S3 bucket name")
    return bucket, prefix.strip("/")


def load_remote_cache(root: Path) -> RemoteCache | None:
    """The shared cache of the workspace at `root`, or None when none is configured."""
    if ENVIRONMENT in os.environ:
        url = os.environ[ENVIRONMENT].strip()
        if not url:
            return None
        try:
            bucket, prefix = split_url(url)
        except ValueError as exc:
            raise ConfigError(
                f"{ENVIRONMENT}={url!r}: {exc}",
                hint=f"set {ENVIRONMENT} to {EXAMPLE}, or to an empty string for no shared cache",
            ) from None
        return RemoteCache(bucket=bucket, prefix=prefix, origin=ENVIRONMENT)
    pyproject = root / PYPROJECT
    table = get_table(load_toml(pyproject), TABLE, pyproject)
    if table is None:
        return None
    return _parse_table(table, pyproject)


def _parse_table(table: dict[str, Any], pyproject: Path) -> RemoteCache:
    try:
        parsed = _CacheTable.model_validate(table)
    except ValidationError as exc:
        source = Source(
            pyproject,
            tuple(TABLE.split(".")),
            table,
            fixes={"url": f"use {EXAMPLE}"},
            known=["url"],
            default_fix=f'write url = "s3://my-bucket/lambdapress" under [{TABLE}]',
        )
        raise config_error(exc, source, f"invalid [{TABLE}] settings") from None
    bucket, prefix = split_url(parsed.url)
    return RemoteCache(bucket=bucket, prefix=prefix, origin=str(pyproject))
