"""Turning an index's configuration into URLs and credentials, without ever showing a secret.

An upload-api index takes its user name and password from the environment variables its
configuration names, then from keyring (the same lookup twine does: service = upload URL).
A CodeArtifact index gets a short-lived token from boto3 (see `codeartifact`). Passwords are
held as `SecretStr`, so a plan, an error or a log line that shows a `ResolvedIndex` shows
`**********`; `redact` scrubs them out of any text that came from another program.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from pydantic import SecretStr

from lambdapress.config.pyproject import PYPROJECT
from lambdapress.indexes._codeartifact import codeartifact_client, resolve_codeartifact
from lambdapress.indexes.config import (
    CodeArtifactIndex,
    ResolvedIndex,
    UploadApiIndex,
    choose_index,
    load_indexes,
)

if TYPE_CHECKING:
    from mypy_boto3_codeartifact import CodeArtifactClient

KeyringLookup = Callable[[str, str], str | None]
"""`(service, username) -> password or None`, the shape of `keyring.get_password`."""


def keyring_password(service: str, username: str) -> str | None:
    """The password keyring holds for (service, username); None without keyring or a backend."""
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        return keyring.get_password(service, username)
    except KeyringError:
        return None
    except RuntimeError:  # some backends raise plain RuntimeError when no daemon answers
        return None


def resolve_upload_api(
    index: UploadApiIndex,
    environ: Mapping[str, str],
    keyring_lookup: KeyringLookup | None = keyring_password,
) -> ResolvedIndex:
    """URLs from the configuration, user and password from the environment or keyring.

    Without a password the index is used anonymously: reads usually work, and an upload the
    index refuses becomes an error that names the variables to set.
    """
    user_var, password_var = index.username_variable, index.password_variable
    username = environ.get(user_var) or index.username
    password = environ.get(password_var) or None
    source = f"${user_var} / ${password_var}"
    if password is None and username and keyring_lookup is not None:
        password = keyring_lookup(index.upload_url, username)
        source = f"keyring ({index.upload_url}, user {username})"
    if password is None:
        source = "none"
    return ResolvedIndex(
        name=index.name,
        kind=index.kind,
        upload_url=index.upload_url,
        index_url=index.index_url,
        username=username,
        password=SecretStr(password) if password is not None else None,
        credentials_from=source,
        fix_credentials=f"export {user_var} and {password_var} with an account that may "
        f"upload to {index.upload_url} (or store the password in keyring for that URL)",
    )


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret (and its URL-encoded and base64 forms) replaced by ****."""
    for secret in secrets:
        if not secret:
            continue
        for form in _forms(secret):
            text = text.replace(form, "****")
    return text


def _forms(secret: str) -> tuple[str, ...]:
    return tuple(
        dict.fromkeys(
            [secret, quote(secret, safe=""), base64.b64encode(secret.encode()).decode("ascii")]
        )
    )


def resolve_configured(root: Path, name: str | None) -> ResolvedIndex:
    """The index the root pyproject configures as `name` (or its only one), resolved.

    An index that is not configured, or a missing name among several, is a ConfigError naming
    the root pyproject.
    """
    return resolve_index(choose_index(load_indexes(root), name, root / PYPROJECT))


def resolve_index(
    index: UploadApiIndex | CodeArtifactIndex,
    environ: Mapping[str, str] | None = None,
    keyring_lookup: KeyringLookup | None = keyring_password,
    client: CodeArtifactClient | None = None,
) -> ResolvedIndex:
    """The index's URLs and credentials: environment/keyring, or the CodeArtifact exchange."""
    if isinstance(index, CodeArtifactIndex):
        return resolve_codeartifact(index, client or codeartifact_client(index))
    return resolve_upload_api(index, os.environ if environ is None else environ, keyring_lookup)
