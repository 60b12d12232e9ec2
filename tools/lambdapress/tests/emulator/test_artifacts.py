"""Artifacts are checked against the manifest and unzipped once, content addressed."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from lambdapress.emulator._artifacts import extract_artifact, sha256_of
from lambdapress.errors import EmulatorError

from .conftest import Repo


def test_extraction_is_content_addressed_and_keeps_modes(repo: Repo, tmp_path: Path) -> None:
    with zipfile.ZipFile(repo.app_zip, "a") as archive:
        info = zipfile.ZipInfo("bin/tool", (1980, 1, 1, 0, 0, 0))
        info.external_attr = 0o755 << 16
        archive.writestr(info, "#!/bin/sh\n")
    entry = repo.app("ok")
    task_root = extract_artifact(entry, repo.root, tmp_path / "tasks")

    assert task_root.name == sha256_of(repo.app_zip) == entry.artifact.sha256
    assert (task_root / "app.py").is_file()
    assert (task_root / "bin" / "tool").stat().st_mode & 0o777 == 0o755
    (task_root / "marker").write_text("still here")
    assert extract_artifact(entry, repo.root, tmp_path / "tasks") == task_root
    assert (task_root / "marker").is_file()  # not extracted twice


def test_a_missing_artifact_names_the_file_and_the_fix(repo: Repo, tmp_path: Path) -> None:
    app = repo.app("ok")
    gone = app.artifact.model_copy(update={"path": "dist/demo/gone.zip"})
    entry = app.model_copy(update={"artifact": gone})
    with pytest.raises(EmulatorError, match=r"the artifact of demo\.ok does not exist") as caught:
        extract_artifact(entry, repo.root, tmp_path)
    assert caught.value.path == (repo.root / "dist/demo/gone.zip").resolve()
    assert caught.value.hint is not None and "nox -s package" in caught.value.hint


def test_a_file_that_is_not_a_zip_is_refused(repo: Repo, tmp_path: Path) -> None:
    repo.app_zip.write_bytes(b"not a zip")
    entry = repo.app("ok")  # the manifest agrees with the bytes: only the format is wrong
    with pytest.raises(EmulatorError, match="not a valid zip"):
        extract_artifact(entry, repo.root, tmp_path / "tasks")
    assert list((tmp_path / "tasks").iterdir()) == []  # no half-extracted folder left
