"""Named package indexes, configured once in the root pyproject under `[tool.lambdapress.indexes]`.

Two kinds cover the private indexes teams use:

```toml
[tool.lambdapress.indexes.local]          # anything that speaks the upload API
kind = "upload-api"                       # the default
upload-url = "http://127.0.0.1:8080/"     # where twine posts files
index-url = "http://127.0.0.1:8080/simple/"  # the simple index that pip and uv read
username-env = "LOCAL_INDEX_USERNAME"     # optional, default LAMBDAPRESS_INDEX_LOCAL_USERNAME
password-env = "LOCAL_INDEX_PASSWORD"     # optional, default LAMBDAPRESS_INDEX_LOCAL_PASSWORD
username = "__token__"                    # optional: a fixed user name (it is not a secret)

[tool.lambdapress.indexes.company]        # AWS CodeArtifact: URLs and token come from boto3
kind = "codeartifact"
domain = "acme"
domain-owner = "123456789012"
repository = "python"
region = "eu-west-1"
```

Secrets never live in the file: a `password` or `token` key is an error, and credentials are
read from the environment (or keyring) when an index is resolved, see `credentials`.
"""

from __future__ import annotations

import base64
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, SecretStr, ValidationError

from lambdapress.config.pyproject import PYPROJECT, find_key_line, get_table, load_toml
from lambdapress.config.validation import Source, config_error
from lambdapress.errors import ConfigError
from lambdapress.indexes.uv_credentials import lambdapress_variable, uv_auth

TABLE = "tool.lambdapress.indexes"
_NAME = re.compile(r"^[a-z][a-z0-9-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SECRET_KEYS = ("password", "token", "secret")
# CodeArtifact API reference, GetAuthorizationToken: durationSeconds from 900 to 43200 (15 min
# to 12 h); the shortest by default.
TOKEN_SECONDS_MIN = 900
TOKEN_SECONDS_MAX = 43200

EXAMPLE = (
    '[tool.lambdapress.indexes.local]\nupload-url = "http://127.0.0.1:8080/"\n'
    'index-url = "http://127.0.0.1:8080/simple/"'
)


def _url(value: str) -> str:
    """An http(s) URL without credentials, normalised to end with a slash."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http:// or https:// URL")
    if parts.username or parts.password:
        raise ValueError("must not contain a user name or password (they would be committed)")
    return value if value.endswith("/") else value + "/"


def _env_name(value: str) -> str:
    if not _ENV_NAME.match(value):
        raise ValueError("must be an environment variable name such as MY_INDEX_PASSWORD")
    return value


Url = Annotated[str, AfterValidator(_url)]
EnvName = Annotated[str, AfterValidator(_env_name)]


class UploadApiIndex(BaseModel):
    """An index that accepts the legacy upload API (pypiserver, devpi, Artifactory, GitLab...)."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str
    kind: Literal["upload-api"] = "upload-api"
    upload_url: Url = Field(alias="upload-url")
    index_url: Url = Field(alias="index-url")
    username: str | None = None
    username_env: EnvName | None = Field(default=None, alias="username-env")
    password_env: EnvName | None = Field(default=None, alias="password-env")

    @property
    def username_variable(self) -> str:
        """The environment variable the user name is read from."""
        return self.username_env or lambdapress_variable(self.name, "USERNAME")

    @property
    def password_variable(self) -> str:
        """The environment variable the password (or token) is read from."""
        return self.password_env or lambdapress_variable(self.name, "PASSWORD")


class CodeArtifactIndex(BaseModel):
    """An AWS CodeArtifact repository; its URL and a short-lived token come from boto3."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    name: str
    kind: Literal["codeartifact"]
    domain: str = Field(min_length=2, max_length=50)
    domain_owner: str = Field(alias="domain-owner", pattern=r"^\d{12}$")
    repository: str = Field(min_length=2, max_length=100)
    region: str = Field(pattern=r"^[a-z]{2}(-[a-z]+)+-\d$")
    duration_seconds: int = Field(
        default=TOKEN_SECONDS_MIN,
        alias="duration-seconds",
        ge=TOKEN_SECONDS_MIN,
        le=TOKEN_SECONDS_MAX,
    )


IndexConfig = Annotated[UploadApiIndex | CodeArtifactIndex, Field(discriminator="kind")]


class _Entry(BaseModel):
    entry: IndexConfig


def load_indexes(root: Path) -> tuple[UploadApiIndex | CodeArtifactIndex, ...]:
    """Every index configured in `root/pyproject.toml`, in file order (none: empty)."""
    pyproject = root / PYPROJECT
    table = get_table(load_toml(pyproject), TABLE, pyproject) or {}
    return tuple(parse_index(name, value, pyproject) for name, value in table.items())


def parse_index(name: str, value: Any, pyproject: Path) -> UploadApiIndex | CodeArtifactIndex:
    """Validate one `[tool.lambdapress.indexes.<name>]` table; errors name the key's line."""
    keys = ["tool", "lambdapress", "indexes", name]
    if not _NAME.match(name):
        raise ConfigError(
            f"index name {name!r} must be lowercase letters, digits and dashes",
            path=pyproject,
            line=find_key_line(pyproject, keys),
            hint="rename the table, e.g. [tool.lambdapress.indexes.local]",
        )
    if not isinstance(value, dict):
        raise ConfigError(
            f"index {name!r} must be a table",
            path=pyproject,
            line=find_key_line(pyproject, keys),
            hint=f"write it as a section:\n{EXAMPLE}",
        )
    for secret in _SECRET_KEYS:
        if secret in value:
            raise ConfigError(
                f"index {name!r} has a `{secret}` key: secrets must never be committed",
                path=pyproject,
                line=find_key_line(pyproject, [*keys, secret]),
                hint=f"delete it and export {lambdapress_variable(name, 'PASSWORD')} instead "
                "(or set `password-env` to the variable you use, or store it in keyring)",
            )
    data = {"kind": "upload-api", **value, "name": name}
    try:
        return _Entry.model_validate({"entry": data}).entry
    except ValidationError as exc:
        source = Source(
            pyproject,
            tuple(keys),
            value,
            fixes=_FIX,
            known=_KNOWN,
            default_fix=f"see the example:\n{EXAMPLE}",
            wording=_WORDING,
            skip=2,  # `entry`, then the kind pydantic chose
            first_key="kind",
            quote_values=False,  # URLs may carry credentials; the file is there to read
        )
        raise config_error(exc, source, f"invalid index {name!r}") from None


_WORDING = {
    "union_tag_invalid": 'must be "upload-api" or "codeartifact"',
    "literal_error": 'must be "upload-api" or "codeartifact"',
}
_KNOWN = sorted(
    {
        info.alias or name
        for model in (UploadApiIndex, CodeArtifactIndex)
        for name, info in model.model_fields.items()
        if name != "name"
    }
)
_FIX = {
    "kind": 'use kind = "upload-api" (pypiserver, devpi, Artifactory...) or "codeartifact"',
    "upload-url": 'the URL twine uploads to, e.g. upload-url = "http://127.0.0.1:8080/"',
    "index-url": 'the simple index pip reads, e.g. index-url = "http://127.0.0.1:8080/simple/"',
    "username-env": 'name an environment variable, e.g. username-env = "MY_INDEX_USERNAME"',
    "password-env": 'name an environment variable, e.g. password-env = "MY_INDEX_PASSWORD"',
    "domain-owner": "the 12-digit AWS account id that owns the CodeArtifact domain",
    "region": 'an AWS region such as "eu-west-1"',
    "duration-seconds": f"a token lifetime from {TOKEN_SECONDS_MIN} to {TOKEN_SECONDS_MAX} seconds",
}


def choose_index(
    indexes: tuple[UploadApiIndex | CodeArtifactIndex, ...], name: str | None, pyproject: Path
) -> UploadApiIndex | CodeArtifactIndex:
    """The index called `name`; without a name, the only configured one."""
    names = ", ".join(index.name for index in indexes)
    if not indexes:
        raise ConfigError(
            "no package index is configured",
            path=pyproject,
            hint=f"add one to the root pyproject:\n{EXAMPLE}",
        )
    if name is None:
        if len(indexes) == 1:
            return indexes[0]
        raise ConfigError(
            f"several indexes are configured ({names}): say which one",
            path=pyproject,
            hint="pass --index NAME",
        )
    for index in indexes:
        if index.name == name:
            return index
    raise ConfigError(
        f"no index named {name!r} (configured: {names})",
        path=pyproject,
        line=find_key_line(pyproject, TABLE.split(".")),
        hint=f"use one of {names}, or add [tool.lambdapress.indexes.{name}]",
    )


class ResolvedIndex(BaseModel):
    """An index ready to talk to: where to read, where to upload, and as whom."""

    model_config = ConfigDict(frozen=True)

    name: str
    kind: str
    upload_url: str
    index_url: str
    username: str | None = None
    password: SecretStr | None = None
    credentials_from: str = "none"
    """Where the credentials came from, for messages: variable names, keyring or boto3."""
    fix_credentials: str = ""
    """What to do when the index refuses them."""

    def basic_auth(self) -> tuple[str, str] | None:
        """(user, password) for HTTP basic authentication, None when anonymous."""
        if self.password is None:
            return None
        return (self.username or "", self.password.get_secret_value())

    def uv_variables(self, uv_name: str | None = None) -> dict[str, str]:
        """The variables that hand uv these credentials; empty when anonymous.

        `uv_name` is the name uv is given for the index (this index's own by default).
        """
        auth = self.basic_auth()
        return {} if auth is None else uv_auth(uv_name or self.name, *auth)

    def authorization_header(self) -> str | None:
        """The `Authorization` header value for reads, None when anonymous."""
        auth = self.basic_auth()
        if auth is None:
            return None
        token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
        return f"Basic {token}"

    def secrets(self) -> tuple[str, ...]:
        """Every secret value this index holds, for `redact`."""
        return (self.password.get_secret_value(),) if self.password else ()
