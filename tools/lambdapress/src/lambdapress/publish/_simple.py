"""What an index already holds: the files of one project, read from its simple index.

Every index lambdapress supports serves the simple repository API (PEP 503 HTML, and PEP 691
JSON on those that offer it), so "which versions exist" and "what is the sha256 of the
published wheel" need no index-specific client. Parsing is split from fetching so that the
rules (which files count, what version a filename carries) are tested without a network.

A redirect to another host is never followed: pypiserver answers an unknown project by
redirecting to PyPI, and a public project of the same name must not be mistaken for ours.

An index is another program: what it answers is checked before it is believed. A request has
a connect and read timeout (`TIMEOUT`) and the whole page a deadline (`DEADLINE`, read one
socket read at a time, so a trickling index cannot hold it); a page that is not a PEP 691
JSON or PEP 503 HTML project page (garbage under the JSON type, a wrong shape, a body that is
not UTF-8, an unusable link, another content type) is a `PackageIndexError` naming its URL.
"""

from __future__ import annotations

import http.client
import json
import time
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
from pydantic import BaseModel, ConfigDict, ValidationError

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import ResolvedIndex

JSON_TYPE = "application/vnd.pypi.simple.v1+json"
HTML_TYPES = ("application/vnd.pypi.simple.v1+html", "text/html")
ACCEPT = f"{JSON_TYPE}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
TIMEOUT = 10.0
"""Seconds to connect, and between two reads of the answer."""
DEADLINE = 60.0
"""Seconds for a whole page: an index that trickles its answer is given up on."""
PAGE_LIMIT = 64 * 1024 * 1024
"""Bytes: a project page of a private index is far smaller; past this it is not one."""
_SHAPE_FIX = (
    "check that index-url in [tool.lambdapress.indexes] points at the index's simple API "
    "(its .../simple/ URL) and that the index is healthy"
)


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
    kind = content_type.split(";")[0].strip().lower()
    if kind == JSON_TYPE:
        try:
            data = json.loads(body)
        except (ValueError, RecursionError) as exc:  # not JSON, not UTF-8, nested too deep
            raise _bad_page(final_url, f"its body is not JSON ({_short(exc)})") from None
        return parse_simple_json(data, final_url, project)
    if kind not in HTML_TYPES:
        raise _bad_page(final_url, f"it answered {kind or 'no content type'}, not a project page")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _bad_page(final_url, f"its HTML is not UTF-8 ({_short(exc)})") from None
    return parse_simple_html(text, final_url, project)


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
    """The files linked from a PEP 503 project page (`base_url`: the page, named in errors)."""
    parser = _Links()
    try:
        parser.feed(text)
        parser.close()
    except (ValueError, AssertionError, RecursionError) as exc:  # what HTMLParser may raise
        raise _bad_page(base_url, f"its HTML cannot be read ({_short(exc)})") from None
    files = []
    for href in parser.hrefs:
        try:
            absolute, fragment = urldefrag(urljoin(base_url, href))
            filename = urlsplit(absolute).path.rsplit("/", 1)[-1]
        except ValueError as exc:  # a link urllib cannot parse ("http://[", ...)
            raise _bad_page(base_url, f"it links to {href!r}, not a URL ({exc})") from None
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        info = file_info(filename, absolute, sha256, project)
        if info is not None:
            files.append(info)
    return tuple(files)


class _JsonFile(BaseModel):
    """One file of a PEP 691 page: the fields read here (others, and new ones, are allowed)."""

    model_config = ConfigDict(frozen=True, strict=True)

    filename: str
    url: str | None = None
    """Required by PEP 691; an index that leaves it out is taken to mean the file name."""
    hashes: dict[str, str] = {}


class _JsonPage(BaseModel):
    """A PEP 691 project page: the files are all that is read."""

    model_config = ConfigDict(frozen=True, strict=True)

    files: list[_JsonFile]


def parse_simple_json(data: Any, base_url: str, project: str) -> tuple[IndexFile, ...]:
    """The files of a PEP 691 JSON project page (`base_url`: the page, named in errors)."""
    try:
        page = _JsonPage.model_validate(data)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the page"
        raise _bad_page(
            base_url, f"its JSON is not a PEP 691 project page (`{where}`: {problem['msg']})"
        ) from None
    files = []
    for entry in page.files:
        try:
            url = urldefrag(urljoin(base_url, entry.url or entry.filename))[0]
        except ValueError as exc:
            raise _bad_page(base_url, f"it links to {entry.url!r}, not a URL ({exc})") from None
        info = file_info(entry.filename, url, entry.hashes.get("sha256"), project)
        if info is not None:
            files.append(info)
    return tuple(files)


def _bad_page(url: str, problem: str) -> PackageIndexError:
    return PackageIndexError(
        f"the index's page {url} cannot be used: {problem}; nothing was changed", hint=_SHAPE_FIX
    )


def _short(exc: BaseException, limit: int = 120) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


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
            body = _read_within(response, url, index.name)
            return body, response.headers.get("Content-Type", ""), response.url
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
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            reason = f"no answer within {TIMEOUT:.0f} s"
        elif isinstance(exc, http.client.HTTPException):  # cut short, or not HTTP at all
            reason = f"a broken answer ({type(exc).__name__})"
        raise PackageIndexError(
            f"cannot reach index {index.name!r} at {url}: {reason}",
            hint="start it (for the local one: nox -s index) or fix its index-url in "
            "[tool.lambdapress.indexes] of the root pyproject.toml",
        ) from None


def _read_within(response: http.client.HTTPResponse, url: str, name: str) -> bytes:
    """The whole body, one socket read at a time, within `DEADLINE` and `PAGE_LIMIT`."""
    started = time.monotonic()
    body = bytearray()
    while chunk := response.read1(64 * 1024):
        body += chunk
        if len(body) > PAGE_LIMIT:
            raise _bad_page(url, f"it is larger than {PAGE_LIMIT // (1024 * 1024)} MiB")
        if time.monotonic() - started > DEADLINE:
            raise PackageIndexError(
                f"index {name!r} did not send {url} within {DEADLINE:.0f} s",
                hint="check the index's health and the network, then try again",
            )
    return bytes(body)
