"""Uploads with twine to a real pypiserver: success, never overwriting, refused passwords."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from lambdapress.errors import PackageIndexError, PublishError
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._simple import project_files
from lambdapress.publish._upload import upload_files


def test_upload_puts_both_files_on_the_index(
    index_server: Any, dists: Any, tmp_path: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    built = dists("demo-models", "1.0.0")
    pyproject = tmp_path / "pyproject.toml"
    done = upload_files(index_server.resolved(), [f.path for f in built.files], pyproject)
    assert done == (built.wheel.filename, built.sdist.filename)
    assert index_server.snapshot() == {f.filename: f.sha256 for f in built.files}
    listed = project_files(index_server.resolved(), "demo-models")
    assert {(f.filename, f.sha256) for f in listed} == {(f.filename, f.sha256) for f in built.files}
    captured = capsys.readouterr()
    assert (captured.out, captured.err) == ("", "")  # the library never prints


def test_the_same_file_again_fails_and_leaves_the_index_unchanged(
    index_server: Any, dists: Any, tmp_path: Any
) -> None:
    built = dists("demo-models", "1.0.0")
    pyproject = tmp_path / "pyproject.toml"
    upload_files(index_server.resolved(), [built.wheel.path], pyproject)
    before = index_server.snapshot()
    with pytest.raises(PublishError) as caught:
        upload_files(index_server.resolved(), [built.wheel.path, built.sdist.path], pyproject)
    error = caught.value
    assert f"already has {built.wheel.filename}" in error.message
    assert "never overwritten" in error.message
    assert error.path == pyproject
    assert "bump `version`" in str(error.hint)
    assert index_server.snapshot() == before


def test_wrong_password_fails_clearly_without_showing_it(
    index_server: Any,
    dists: Any,
    tmp_path: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "Wr0ng-Pa55word-that-must-not-leak"
    built = dists("demo-models", "1.0.0")
    with pytest.raises(PublishError) as caught:
        upload_files(index_server.resolved(password=wrong), [built.wheel.path], tmp_path)
    error = caught.value
    assert "refused the credentials (user 'publisher', from the test): HTTP 403" in error.message
    assert error.hint == "use the test's account"
    captured = capsys.readouterr()
    for text in (str(error), repr(error), captured.out, captured.err, caplog.text):
        assert wrong not in text
        assert index_server.password not in text
    assert index_server.snapshot() == {}


def test_no_credentials_says_which_are_needed(index_server: Any, dists: Any, tmp_path: Any) -> None:
    anonymous = ResolvedIndex(
        name="local",
        kind="upload-api",
        upload_url=index_server.url,
        index_url=index_server.index_url,
        fix_credentials="export LAMBDAPRESS_INDEX_LOCAL_USERNAME and ..._PASSWORD",
    )
    built = dists("demo-models", "1.0.0")
    with pytest.raises(PublishError, match="requires credentials and none were found") as caught:
        upload_files(anonymous, [built.wheel.path], tmp_path)
    assert caught.value.hint == anonymous.fix_credentials


def test_an_unreachable_index_is_a_clear_error(
    index_server: Any, dists: Any, tmp_path: Any
) -> None:
    built = dists("demo-models", "1.0.0")
    index_server.server.stop()
    with pytest.raises(PackageIndexError, match="cannot upload to index 'local'") as caught:
        upload_files(index_server.resolved(), [built.wheel.path], tmp_path)
    assert "nox -s index" in str(caught.value.hint)
    assert index_server.password not in str(caught.value)
