"""What an index already holds: the files of one project, read from its simple index.

Every index lambdapress supports serves the simple repository API (PEP 503 HTML, and PEP 691
JSON on those that offer it), so "which versions exist" and "what is the sha256 of the
published wheel" need no index-specific client. Parsing is split from fetching so that the
rules (which files count, what version a filename carries) are tested without a network.

A redirect to another host is never followed: pypiserver answers an unknown project by
redirecting to PyPI, and a public project of the same name must not be mistaken for ours.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from html.parser import HTMLParser
from typing import Any, Literal
from urllib.parse import urldefrag, urljoin, urlsplit

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import Version
from pydantic import BaseModel, ConfigDict

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import ResolvedIndex

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
TIMEOUT = 30.0


class IndexFile(BaseModel):
    """One distribution file of a project on an index."""

    model_config = ConfigDict(frozen=True)

    filename: str
    version: str
    kind: Literal["wheel", "sdist"]
    url: str
    sha256: str | None
    """From the link's `#sha256=` fragment (or the JSON `hashes`), when the index gives it."""


def project_url(index: ResolvedIndex, project: str) -> str:
    """The simple-index page of `project` (normalised name, trailing slash)."""
    return f"{index.index_url}{canonicalize_name(project)}/"


def project_files(index: ResolvedIndex, project: str) -> tuple[IndexFile, ...]:
    """The files of `project` on `index`; empty when the index has never seen it."""
    url = project_url(index, project)
    body, content_type, final_url = _fetch(index, url)
    if body is None:
        return ()
    if content_type.startswith(JSON_TYPE):
        return parse_simple_json(json.loads(body), final_url, project)
    return parse_simple_html(body.decode("utf-8", errors="replace"), final_url, project)


def published_versions(files: tuple[IndexFile, ...]) -> tuple[Version, ...]:
    """The distinct versions among `files`, lowest first."""
    return tuple(sorted({Version(f.version) for f in files}))


def file_info(filename: str, url: str, sha256: str | None, project: str) -> IndexFile | None:
    """An IndexFile for a wheel or sdist of `project`; None for anything else."""
    wanted = canonicalize_name(project)
    try:
        if filename.endswith(".whl"):
            name, version, _, _ = parse_wheel_filename(filename)
            kind: Literal["wheel", "sdist"] = "wheel"
        elif filename.endswith((".tar.gz", ".zip")):
            name, version = parse_sdist_filename(filename)
            kind = "sdist"
        else:
            return None
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    if name != wanted:
        return None
    return IndexFile(filename=filename, version=str(version), kind=kind, url=url, sha256=sha256)


def parse_simple_html(text: str, base_url: str, project: str) -> tuple[IndexFile, ...]:
    """The files linked from a PEP 503 project page."""
    parser = _Links()
    parser.feed(text)
    files = []
    for href in parser.hrefs:
        absolute, fragment = urldefrag(urljoin(base_url, href))
        filename = urlsplit(absolute).path.rsplit("/", 1)[-1]
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        info = file_info(filename, absolute, sha256, project)
        if info is not None:
            files.append(info)
    return tuple(files)


def parse_simple_json(data: Any, base_url: str, project: str) -> tuple[IndexFile, ...]:
    """The files of a PEP 691 JSON project page."""
    entries = data.get("files", []) if isinstance(data, dict) else []
    files = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("filename"), str):
            continue
        hashes = entry.get("hashes")
        digest = hashes.get("sha256") if isinstance(hashes, dict) else None
        sha256 = digest if isinstance(digest, str) else None
        url = urljoin(base_url, str(entry.get("url", entry["filename"])))
        info = file_info(entry["filename"], urldefrag(url)[0], sha256, project)
        if info is not None:
            files.append(info)
    return tuple(files)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            href = dict(attrs).get("href")
            if href:
                self.hrefs.append(href)


class _SameOriginRedirects(urllib.request.HTTPRedirectHandler):
    """Follow redirects on the index's own host only (and so never send credentials away)."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: Any,
        code: int,
        msg: str,
        headers: Any,
        newurl: str,
    ) -> urllib.request.Request | None:
        old, new = urlsplit(req.full_url), urlsplit(urljoin(req.full_url, newurl))
        if (old.scheme, old.netloc) != (new.scheme, new.netloc):
            return None
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _fetch(index: ResolvedIndex, url: str) -> tuple[bytes | None, str, str]:
    """(body, content type, final URL); body None when the project is not on this index."""
    request = urllib.request.Request(url, headers={"Accept": ACCEPT})  # noqa: S310 (http(s) only)
    header = index.authorization_header()
    if header is not None:
        request.add_header("Authorization", header)  # same-origin redirects only
    opener = urllib.request.build_opener(_SameOriginRedirects())
    try:
        with opener.open(request, timeout=TIMEOUT) as response:
            return response.read(), response.headers.get("Content-Type", ""), response.url
    except urllib.error.HTTPError as exc:
        if exc.code == 404 or 300 <= exc.code < 400:
            return None, "", url
        if exc.code in (401, 403):
            raise PackageIndexError(
                f"index {index.name!r} refused to list packages (HTTP {exc.code}) at {url}",
                hint=index.fix_credentials or "check the index's credentials",
            ) from None
        raise PackageIndexError(
            f"index {index.name!r} answered HTTP {exc.code} for {url}",
            hint="check index-url in [tool.lambdapress.indexes] and that the index is healthy",
        ) from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        raise PackageIndexError(
            f"cannot reach index {index.name!r} at {url}: {reason}",
            hint="start it (for the local one: nox -s index) or fix its index-url in "
            "[tool.lambdapress.indexes] of the root pyproject.toml",
        ) from None
