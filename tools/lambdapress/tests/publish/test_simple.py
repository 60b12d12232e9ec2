"""Reading an index: PEP 503 and 691 pages, and the real pypiserver."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import pytest
from packaging.version import Version

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._simple import (
    file_info,
    parse_simple_html,
    parse_simple_json,
    project_files,
    published_versions,
)
from lambdapress.publish._upload import upload_files

PAGE = """<!DOCTYPE html><html><body>
<a href="../../packages/acme_models-1.0.0-py3-none-any.whl#sha256=aa">wheel</a>
<a href="/packages/acme_models-1.0.0.tar.gz">acme_models-1.0.0.tar.gz</a>
<a href="/packages/acme_models-1.10.0-py3-none-any.whl#md5=bb">x</a>
<a href="/packages/acme_models_extra-2.0.0-py3-none-any.whl">other project</a>
<a href="/packages/acme_models-1.0.0.exe">not a distribution</a>
<a>no href</a>
</body></html>"""


def test_parse_html_keeps_this_projects_distributions() -> None:
    files = parse_simple_html(PAGE, "http://127.0.0.1:1/simple/acme-models/", "Acme_Models")
    assert [(f.filename, f.version, f.kind, f.sha256, f.url) for f in files] == [
        (
            "acme_models-1.0.0-py3-none-any.whl",
            "1.0.0",
            "wheel",
            "aa",
            "http://127.0.0.1:1/packages/acme_models-1.0.0-py3-none-any.whl",
        ),
        (
            "acme_models-1.0.0.tar.gz",
            "1.0.0",
            "sdist",
            None,
            "http://127.0.0.1:1/packages/acme_models-1.0.0.tar.gz",
        ),
        (
            "acme_models-1.10.0-py3-none-any.whl",
            "1.10.0",
            "wheel",
            None,
            "http://127.0.0.1:1/packages/acme_models-1.10.0-py3-none-any.whl",
        ),
    ]
    assert published_versions(files) == (Version("1.0.0"), Version("1.10.0"))


def test_parse_json() -> None:
    data = {
        "meta": {"api-version": "1.1"},
        "files": [
            {
                "filename": "acme_models-2.0.0-py3-none-any.whl",
                "url": "https://files.example/acme_models-2.0.0-py3-none-any.whl",
                "hashes": {"sha256": "cc"},
            },
            {"filename": "acme_models-2.0.0.tar.gz", "url": "../x/acme_models-2.0.0.tar.gz"},
        ],
    }
    files = parse_simple_json(data, "https://idx.example/simple/acme-models/", "acme-models")
    assert [(f.filename, f.sha256, f.url) for f in files] == [
        (
            "acme_models-2.0.0-py3-none-any.whl",
            "cc",
            "https://files.example/acme_models-2.0.0-py3-none-any.whl",
        ),
        ("acme_models-2.0.0.tar.gz", None, "https://idx.example/simple/x/acme_models-2.0.0.tar.gz"),
    ]


def test_file_info_ignores_malformed_names() -> None:
    assert file_info("acme_models-1.0-py3.whl", "u", None, "acme-models") is None
    assert file_info("acme_models.tar.gz", "u", None, "acme-models") is None


def test_unknown_project_is_empty_even_with_pypi_fallback(index_server: Any) -> None:
    # pypiserver redirects unknown projects to PyPI; that redirect must not be followed.
    assert project_files(index_server.resolved(), "requests") == ()


def test_lists_uploaded_files_with_hashes(index_server: Any, dists: Any, tmp_path: Any) -> None:
    built = dists("demo-models", "1.2.0")
    upload_files(index_server.resolved(), [f.path for f in built.files], tmp_path)
    files = project_files(index_server.resolved(), "Demo_Models")
    assert {(f.filename, f.sha256) for f in files} == {(f.filename, f.sha256) for f in built.files}


def test_unreachable_index(index_server: Any) -> None:
    resolved = index_server.resolved()
    index_server.server.stop()
    with pytest.raises(PackageIndexError, match="cannot reach index 'local'") as caught:
        project_files(resolved, "demo-models")
    assert "nox -s index" in str(caught.value.hint)


class _Recorder(BaseHTTPRequestHandler):
    hits: ClassVar[list[tuple[str, str | None]]] = []
    target: ClassVar[str] = ""

    def do_GET(self) -> None:
        _Recorder.hits.append((self.path, self.headers.get("Authorization")))
        if self.path.startswith("/simple/") and _Recorder.target:
            self.send_response(303)
            self.send_header("Location", _Recorder.target + self.path)
            self.end_headers()
        elif self.path.startswith("/private/"):
            self.send_response(401)
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def two_servers() -> Iterator[tuple[str, str]]:
    servers = [ThreadingHTTPServer(("127.0.0.1", 0), _Recorder) for _ in range(2)]
    for server in servers:
        threading.Thread(target=server.serve_forever, daemon=True).start()
    urls = [f"http://127.0.0.1:{s.server_address[1]}" for s in servers]
    _Recorder.hits = []
    _Recorder.target = ""
    yield urls[0], urls[1]
    for server in servers:
        server.shutdown()
        server.server_close()


def test_redirect_to_another_host_is_not_followed_and_gets_no_credentials(
    two_servers: tuple[str, str],
) -> None:
    index_url, elsewhere = two_servers
    _Recorder.target = elsewhere  # the first server redirects /simple/... to the second
    resolved = ResolvedIndex.model_validate(
        {
            "name": "local",
            "kind": "upload-api",
            "upload_url": index_url + "/",
            "index_url": index_url + "/simple/",
            "username": "u",
            "password": "secret",
        }
    )
    assert project_files(resolved, "acme-models") == ()
    assert _Recorder.hits == [("/simple/acme-models/", "Basic dTpzZWNyZXQ=")]


def test_refused_listing_points_at_credentials(two_servers: tuple[str, str]) -> None:
    index_url, _ = two_servers
    resolved = ResolvedIndex(
        name="private",
        kind="upload-api",
        upload_url=index_url + "/",
        index_url=index_url + "/private/",
        fix_credentials="export THE_VARIABLES",
    )
    with pytest.raises(PackageIndexError, match=r"refused to list packages \(HTTP 401\)") as caught:
        project_files(resolved, "acme-models")
    assert caught.value.hint == "export THE_VARIABLES"
