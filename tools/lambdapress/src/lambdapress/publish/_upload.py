"""Uploading files with twine, the standard upload client, as a library call.

twine's `Repository` does the upload-API request (multipart POST, metadata fields, basic
auth, retries on 5xx); `PackageFile` reads and validates the file first. Both are used
directly rather than through `twine.commands.upload`, which prints with rich and turns every
refusal into the same exception: here each answer of the index becomes a specific error
(credentials refused, file already there) that says what to do. The few lines twine still
prints go to a buffer, never to the user's terminal, and nothing shown contains a secret.

twine's session sends without a timeout, so an index that accepts the connection and never
answers would hold `publish` forever: every request of the session gets a connect and a read
timeout (`TIMEOUT`), and a timed-out upload is a `PackageIndexError` like a refused connection.
"""

from __future__ import annotations

import contextlib
import functools
import io
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from lambdapress.errors import DistributionError, PackageIndexError, PublishError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.indexes.credentials import redact

TIMEOUT = (10.0, 60.0)
"""Seconds to connect, and to wait for each read of the answer (the index checks the file)."""


def upload_files(index: ResolvedIndex, files: Sequence[Path], pyproject: Path) -> tuple[str, ...]:
    """Upload `files` in order; returns their names. Stops at the first refusal."""
    from twine.repository import Repository

    auth = index.basic_auth()
    repository = Repository(
        index.upload_url,
        auth[0] if auth else None,
        auth[1] if auth else None,
        disable_progress_bar=True,
    )
    session: Any = repository.session
    session.request = functools.partial(session.request, timeout=TIMEOUT)
    done: list[str] = []
    try:
        for file in files:
            package = _package_file(file, pyproject)
            with contextlib.redirect_stdout(io.StringIO()):
                response = repository.upload(package)
            check_response(index, response, file.name, done, pyproject)
            done.append(file.name)
    except OSError as exc:  # requests' errors are OSErrors: connection refused, timeouts
        raise PackageIndexError(
            f"cannot upload to index {index.name!r} at {index.upload_url}: "
            f"{redact(str(exc), index.secrets())}{_so_far(done)}",
            hint="start the index (for the local one: nox -s index) or fix its upload-url",
        ) from None
    finally:
        repository.close()
    return tuple(done)


def _package_file(file: Path, pyproject: Path) -> Any:
    """twine's view of a file (metadata parsed and validated), or a DistributionError."""
    from twine.exceptions import TwineException
    from twine.package import PackageFile

    try:
        return PackageFile.from_filename(str(file), comment=None)
    except TwineException as exc:
        raise DistributionError(
            f"twine refuses {file.name}: {exc}",
            path=pyproject,
            hint="rebuild it (lambdapress publish builds it for you) and check [project]",
        ) from None


def check_response(
    index: ResolvedIndex, response: Any, filename: str, done: Sequence[str], pyproject: Path
) -> None:
    """Turn a non-2xx answer of the upload API into an error that says what to do."""
    status: int = response.status_code
    if 200 <= status < 300:
        return
    text = redact(f"{response.reason or ''} {response.text or ''}", index.secrets())
    where = f"index {index.name!r} ({index.upload_url})"
    if status in (401, 403):
        who = f"user {index.username!r}" if index.username else "anonymous uploads"
        state = (
            f"refused the credentials ({who}, from {index.credentials_from})"
            if index.password is not None
            else "requires credentials and none were found"
        )
        raise PublishError(
            f"{where} {state}: HTTP {status} for {filename}{_so_far(done)}",
            hint=index.fix_credentials,
        )
    if status == 409 or (status == 400 and "exist" in text.lower()):
        raise PublishError(
            f"{where} already has {filename}; a published file is never overwritten{_so_far(done)}",
            path=pyproject,
            hint="bump `version` in [project] and publish again",
        )
    if 300 <= status < 400:
        raise PublishError(
            f"{where} redirected the upload of {filename} (HTTP {status}){_so_far(done)}",
            hint="set upload-url to the index's upload endpoint itself",
        )
    raise PublishError(
        f"{where} refused {filename}: HTTP {status} {_short(text)}{_so_far(done)}",
        hint="read the index's answer above; check the file with `twine check`",
    )


def _so_far(done: Sequence[str]) -> str:
    return f" (already uploaded: {', '.join(done)})" if done else ""


def _short(text: str, limit: int = 300) -> str:
    """The visible words of an HTML or text answer, shortened."""
    words = " ".join(re.sub(r"<[^>]+>", " ", text).split())
    return words if len(words) <= limit else words[:limit] + "..."
