"""Checking a folder against its record while another run throws it away."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lambdapress.support import integrity


def _folder(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "markupsafe-3.0.4"
    (folder / "markupsafe").mkdir(parents=True)
    (folder / "markupsafe" / "__init__.py").write_text("x = 1\n")
    return folder, integrity.folder_digests(folder, integrity.is_mark)


def test_a_folder_as_recorded_has_no_problem(tmp_path: Path) -> None:
    folder, recorded = _folder(tmp_path)
    assert integrity.folder_problem(folder, recorded, integrity.is_mark) is None


def test_a_folder_removed_while_it_is_hashed_is_a_problem_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two runs found the same damage: one discards the folder while the other reads it."""
    folder, recorded = _folder(tmp_path)
    real_digest = integrity.file_digest

    def digest_after_the_other_run_discarded(path: Path) -> str:
        shutil.rmtree(folder)
        return real_digest(path)

    monkeypatch.setattr(integrity, "file_digest", digest_after_the_other_run_discarded)

    assert integrity.folder_problem(folder, recorded, integrity.is_mark) == (
        "it was removed while it was checked (another run threw it away)"
    )


def test_a_changed_file_is_still_named(tmp_path: Path) -> None:
    folder, recorded = _folder(tmp_path)
    (folder / "markupsafe" / "__init__.py").write_text("x = 2\n")
    assert integrity.folder_problem(folder, recorded, integrity.is_mark) == (
        "markupsafe/__init__.py was changed"
    )
