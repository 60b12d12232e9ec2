"""Secrets, parameters and the database's URL, read at run time and cached across invocations.

```python
from lambdapress_runtime import secrets

stripe_key = secrets.secret("stripe")          # [tool.lambdapress.secrets.stripe]
tax_rate = secrets.parameter("tax-rate")       # [tool.lambdapress.parameters.tax-rate]
conn = psycopg.connect(secrets.database_url())  # the service's PostgreSQL
```

Deploy gives a function the *names* of what its service declares (`STRIPE_SECRET_NAME`,
`TAX_RATE_PARAMETER_NAME`) and how long a value may be reused (`STRIPE_SECRET_MAX_AGE`,
seconds), never a value: anyone who can read a function's configuration would read it, and a
rotated value would need a redeploy. The values are read here, through Powertools' parameters
utility, whose cache lives in the process: a warm invocation reuses a value until it is
`max_age` seconds old, then the next call reads it again, so a rotated secret is seen within
`max_age` without a redeploy, and a function makes one request per value per `max_age`.

The database's URL comes the same way from the secret `DATABASE_SECRET_NAME` names, unless
`DATABASE_URL` is set (locally, `lambdapress db`'s server). With `DATABASE_PROXY_HOST` set (an
RDS Proxy with IAM authentication), the URL's host becomes the proxy and its password an IAM
authentication token (`rds.generate_db_auth_token`, signed with the function's role; cached for
`TOKEN_REUSE_SECONDS`, well below its 15 minutes), with TLS required as IAM authentication does.

Powertools and boto3 are imported on first use, not with this module: importing
`lambdapress_runtime` stays cheap, and a function that reads nothing loads neither (boto3 is
in Lambda's Python runtime; Powertools ships in the zip, a dependency of the service).
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Final
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from lambdapress_runtime._errors import SettingsError
from lambdapress_runtime.triggers import environment_name

DEFAULT_MAX_AGE: Final = 300
"""Seconds a value is reused when no `..._MAX_AGE` variable says otherwise (the tool's
default too)."""
DATABASE_URL_ENV: Final = "DATABASE_URL"
DATABASE: Final = "DATABASE"
"""The database secret's prefix: `DATABASE_SECRET_NAME`, `DATABASE_SECRET_MAX_AGE`."""
PROXY_HOST_ENV: Final = "DATABASE_PROXY_HOST"
TOKEN_REUSE_SECONDS: Final = 600.0
"""An IAM authentication token is valid for 15 minutes; it is only checked when a connection
opens, so one is reused for 10 and a new one signed after."""
_POSTGRES_PORT: Final = 5432


def secret(name: str, *, refresh: bool = False, environ: Mapping[str, str] | None = None) -> str:
    """The value of the secret the service declares as `[tool.lambdapress.secrets.<name>]`.

    `refresh` reads it now whatever the cache holds (a credential just refused: rotated).
    """
    return _read("secret", name, environ, refresh)


def parameter(name: str, *, refresh: bool = False, environ: Mapping[str, str] | None = None) -> str:
    """The value of the parameter declared as `[tool.lambdapress.parameters.<name>]`.

    A SecureString is decrypted (a String is returned as it is).
    """
    return _read("parameter", name, environ, refresh)


def database_url(*, refresh: bool = False, environ: Mapping[str, str] | None = None) -> str:
    """The libpq URL to connect to the service's PostgreSQL with (module doc).

    `refresh` reads the secret now: after the server refused the password (a rotation the
    cache has not seen yet), so the next connection does not wait for `max_age`.
    """
    env = os.environ if environ is None else environ
    url = env.get(DATABASE_URL_ENV)
    if not url:
        if not env.get(environment_name(DATABASE, "SECRET_NAME")):
            raise SettingsError(
                "the database URL",
                (
                    (
                        "DATABASE_SECRET_NAME",
                        "not set, nor DATABASE_URL: deploy sets the secret's name for a "
                        'service with [tool.lambdapress.storage] kind = "postgres"; locally '
                        "`lambdapress db` sets DATABASE_URL (or set it yourself)",
                    ),
                ),
            )
        url = _read("secret", DATABASE.lower(), env, refresh)
    proxy = env.get(PROXY_HOST_ENV)
    if proxy:
        return through_proxy(url, proxy, _token_signer(env))
    return url


def _read(kind: str, name: str, environ: Mapping[str, str] | None, refresh: bool) -> str:
    env = os.environ if environ is None else environ
    word = kind.upper()
    variable = environment_name(name, f"{word}_NAME")
    physical = env.get(variable)
    if not physical:
        table = "secrets" if kind == "secret" else "parameters"
        raise SettingsError(
            f"{kind} {name!r}",
            (
                (
                    variable,
                    f"not set: declare [tool.lambdapress.{table}.{name}] in the service's "
                    "pyproject.toml, then package and deploy again",
                ),
            ),
        )
    max_age = _max_age(env, environment_name(name, f"{word}_MAX_AGE"))
    from aws_lambda_powertools.utilities import parameters

    if kind == "secret":
        value = parameters.get_secret(physical, max_age=max_age, force_fetch=refresh)
    else:
        value = parameters.get_parameter(
            physical, max_age=max_age, decrypt=True, force_fetch=refresh
        )
    if not isinstance(value, str):  # a binary secret: its bytes, as text
        return bytes(value).decode()
    return value


def _max_age(env: Mapping[str, str], variable: str) -> int:
    raw = env.get(variable)
    if raw is None:
        return DEFAULT_MAX_AGE
    try:
        seconds = int(raw)
    except ValueError:
        seconds = -1
    if seconds < 0:
        raise SettingsError(variable, ((variable, f"{raw!r} is not a whole number of seconds"),))
    return seconds


TokenSigner = Callable[[str, int, str], str]
"""(host, port, user) -> an IAM authentication token."""


def through_proxy(url: str, proxy: str, sign: TokenSigner) -> str:
    """`url` with the proxy as its host and an IAM token as its password, TLS required."""
    parts = urlsplit(url)
    port = parts.port or _POSTGRES_PORT
    user = unquote(parts.username or "")
    if not user:
        raise SettingsError(
            "the database URL",
            ((DATABASE, "has no user: an IAM token authenticates a named database user"),),
        )
    token = sign(proxy, port, user)
    query = "&".join(p for p in parts.query.split("&") if p and not p.startswith("sslmode="))
    query = f"{query}&sslmode=require" if query else "sslmode=require"
    netloc = f"{quote(user, safe='')}:{quote(token, safe='')}@{proxy}:{port}"
    return urlunsplit((parts.scheme, netloc, parts.path, query, ""))


class _Tokens:
    """IAM authentication tokens by (host, port, user), each reused for TOKEN_REUSE_SECONDS."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[tuple[str, int, str], tuple[float, str]] = {}
        self._client: Any = None

    def token(self, host: str, port: int, user: str, region: str | None) -> str:
        key = (host, port, user)
        with self._lock:
            cached = self._tokens.get(key)
            if cached is not None and self.clock() - cached[0] < TOKEN_REUSE_SECONDS:
                return cached[1]
            if self._client is None:
                import boto3

                self._client = boto3.client("rds", region_name=region)
            signed: str = self._client.generate_db_auth_token(
                DBHostname=host, Port=port, DBUsername=user, Region=region
            )
            self._tokens[key] = (self.clock(), signed)
            return signed

    def clear(self) -> None:
        """Forget every token and the client (a restored SnapStart snapshot, tests)."""
        with self._lock:
            self._tokens.clear()
            self._client = None


TOKENS: Final = _Tokens()
"""The process's tokens: a warm invocation reuses the one a cold start signed."""


def _token_signer(env: Mapping[str, str]) -> TokenSigner:
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")

    def sign(host: str, port: int, user: str) -> str:
        return TOKENS.token(host, port, user, region)

    return sign


def clear_cache() -> None:
    """Forget every value read, token signed and client made: the next reads go to AWS.

    For tests, and for a SnapStart restore: the clients Powertools keeps were made with the
    credentials of the container that took the snapshot.
    """
    from aws_lambda_powertools.utilities import parameters
    from aws_lambda_powertools.utilities.parameters.constants import DEFAULT_PROVIDERS

    parameters.clear_caches()  # type: ignore[no-untyped-call]
    DEFAULT_PROVIDERS.clear()
    TOKENS.clear()
