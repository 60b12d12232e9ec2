"""Atomic writes: whole files or nothing, unique temporaries, the umask's mode."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest

from lambdapress import files


def test_write_bytes_replaces_in_one_step_and_leaves_no_temporary(tmp_path: Path) -> None:
    target = tmp_path / "out" / "a.json"
    files.write_bytes(target, b"one")
    files.write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["a.json"]


def test_a_failed_write_keeps_the_old_file_and_removes_the_temporary(tmp_path: Path) -> None:
    target = tmp_path / "a.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError), files.replacing(target) as temporary:
        temporary.write_text("half")
        raise RuntimeError("killed")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_new_files_get_the_umask_mode_not_mkstemp_0600(tmp_path: Path) -> None:
    target = tmp_path / "a.zip"
    files.write_bytes(target, b"zip")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~files.umask()
    assert stat.S_IMODE(target.stat().st_mode) & 0o044 == 0o044 & ~files.umask()


def test_temporaries_are_unique_per_call(tmp_path: Path) -> None:
    names = {files.temporary_path(tmp_path / "x.zip") for _ in range(20)}
    assert len(names) == 20
    assert all(n.name.startswith(files.TEMPORARY_PREFIX) for n in names)


def test_staged_folder_keeps_the_first_finished_copy(tmp_path: Path) -> None:
    final = tmp_path / "dist-1.0"
    with files.staged_folder(final) as first:
        (first / "a").write_text("first")
        with files.staged_folder(final) as second:
            (second / "a").write_text("second")
    assert (final / "a").read_text() == "second"  # the inner one finished first
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dist-1.0"]


def test_staged_folder_removes_its_staging_on_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError), files.staged_folder(tmp_path / "f") as staging:
        (staging / "a").write_text("x")
        raise ValueError
    assert list(tmp_path.iterdir()) == []


def test_sweep_removes_only_old_temporaries(tmp_path: Path) -> None:
    old = files.temporary_path(tmp_path / "a.zip")
    old_folder = files.temporary_path(tmp_path / "b", folder=True)
    fresh = files.temporary_path(tmp_path / "c.zip")
    keep = tmp_path / "real.zip"
    keep.write_text("x")
    past = time.time() - 7200
    for path in (old, old_folder, keep):
        os.utime(path, (past, past))
    assert files.sweep_temporaries(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([fresh.name, "real.zip"])
