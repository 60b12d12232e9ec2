"""Atomic writes: whole files or nothing, unique temporaries, the umask's mode."""

from __future__ import annotations

import errno
import os
import stat
import time
from pathlib import Path

import pytest

from lambdapress.support import files


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


def test_a_folder_found_clean_is_listed_again_only_once_it_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "real.zip").write_text("x")
    past = time.time() - 7200
    os.utime(tmp_path, (past, past))
    listed: list[object] = []
    real = os.scandir
    monkeypatch.setattr(os, "scandir", lambda path: listed.append(path) or real(path))

    assert files.sweep_temporaries(tmp_path, 0) == 0
    assert files.sweep_temporaries(tmp_path, 0) == 0
    assert len(listed) == 1  # the second sweep saw the folder as it was: no listing

    left = files.temporary_path(tmp_path / "a.zip")  # a killed run's: the folder's mtime moves
    assert files.sweep_temporaries(tmp_path, 0) == 1
    assert not left.exists() and len(listed) == 2


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


def _read_only_source(tmp_path: Path) -> Path:
    source = tmp_path / "cache" / "a.zip"
    files.write_bytes(source, b"zip bytes", mode=0o444)
    return source


def test_link_or_copy_links_and_shares_the_read_only_mode(tmp_path: Path) -> None:
    source = _read_only_source(tmp_path)
    destination = tmp_path / "dist" / "a.zip"
    destination.parent.mkdir()
    destination.write_bytes(b"the previous zip")

    assert files.link_or_copy(source, destination, 0o444) is True

    assert destination.stat().st_ino == source.stat().st_ino
    assert destination.read_bytes() == b"zip bytes"
    assert stat.S_IMODE(destination.stat().st_mode) == 0o444
    assert sorted(p.name for p in destination.parent.iterdir()) == ["a.zip"]


def test_linking_onto_the_same_inode_leaves_no_temporary(tmp_path: Path) -> None:
    source = _read_only_source(tmp_path)
    destination = tmp_path / "dist" / "a.zip"
    files.link_or_copy(source, destination, 0o444)

    assert files.link_or_copy(source, destination, 0o444) is True

    assert sorted(p.name for p in destination.parent.iterdir()) == ["a.zip"]
    assert source.stat().st_nlink == 2


def test_another_device_falls_back_to_a_copy_with_the_same_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cross_device(_source: object, _destination: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    source = _read_only_source(tmp_path)
    destination = tmp_path / "dist" / "a.zip"

    assert files.link_or_copy(source, destination, 0o444) is False

    assert destination.stat().st_ino != source.stat().st_ino
    assert destination.read_bytes() == b"zip bytes"
    assert stat.S_IMODE(destination.stat().st_mode) == 0o444
    assert sorted(p.name for p in destination.parent.iterdir()) == ["a.zip"]


def test_an_unexpected_link_error_leaves_the_destination_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(_source: object, _destination: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "link", no_space)
    source = _read_only_source(tmp_path)
    destination = tmp_path / "dist" / "a.zip"
    destination.parent.mkdir()
    destination.write_bytes(b"old")

    with pytest.raises(OSError, match="No space"):
        files.link_or_copy(source, destination, 0o444)

    assert destination.read_bytes() == b"old"
    assert sorted(p.name for p in destination.parent.iterdir()) == ["a.zip"]


def test_a_source_of_another_mode_is_copied_with_the_wanted_mode(tmp_path: Path) -> None:
    """A cache object written under another umask: linking would give dist/ its mode."""
    source = _read_only_source(tmp_path)
    destination = tmp_path / "dist" / "a.zip"

    assert files.link_or_copy(source, destination, 0o440) is False

    assert destination.stat().st_ino != source.stat().st_ino
    assert stat.S_IMODE(destination.stat().st_mode) == 0o440
    assert stat.S_IMODE(source.stat().st_mode) == 0o444
