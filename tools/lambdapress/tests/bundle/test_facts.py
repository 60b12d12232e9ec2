"""Planning's memory between runs: digests by stat, import analyses by digest."""

from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import pytest

from lambdapress.bundle import _facts as facts_module
from lambdapress.bundle._facts import FileFacts
from lambdapress.bundle._imports import ModuleIndex, SourceModule, first_party_closure
from lambdapress.support import files

OLD = 1_600_000_000_000_000_000  # an mtime long past: not "racily" recent


def _file(tmp_path: Path, text: bytes) -> Path:
    path = tmp_path / "src" / "app.py"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text)
    os.utime(path, ns=(OLD, OLD))
    _settle()
    return path


def _settle() -> None:
    """Let the last change age past the racy window (ctime is the kernel's: only waiting
    moves it into the past); not a timing assertion, a precondition."""
    time.sleep(2 * facts_module._FINE_WINDOW_NS / 1e9)


def _next_run(cache: Path, previous: FileFacts) -> FileFacts:
    previous.save()
    return FileFacts.load(cache)


def test_an_unchanged_file_is_not_read_again(tmp_path: Path) -> None:
    path = _file(tmp_path, b"x = 1\n")
    first = FileFacts.load(tmp_path / "cache")
    assert first.digest(path) == hashlib.sha256(b"x = 1\n").hexdigest()
    second = _next_run(tmp_path / "cache", first)

    assert second.digest(path) == hashlib.sha256(b"x = 1\n").hexdigest()
    assert (first.hashed, second.hashed) == (1, 0)


def test_a_touched_file_is_hashed_again_but_not_parsed_again(tmp_path: Path) -> None:
    path = _file(tmp_path, b"import json\nfrom app import models\n")
    module = SourceModule("app", path, False)
    first = FileFacts.load(tmp_path / "cache")
    index = ModuleIndex(facts=first)
    index.modules["app"] = module
    index.roots["app"] = path.parent
    refs = first_party_closure(index, ["app"]).external
    os.utime(path, ns=(OLD + 10**9, OLD + 10**9))  # touched: new mtime, same bytes
    _settle()
    second = _next_run(tmp_path / "cache", first)
    index.facts = second

    assert first_party_closure(index, ["app"]).external == refs
    assert [r.name for r in refs] == ["json"]
    assert (second.hashed, second.parsed) == (1, 0)
    assert first.parsed == 1


def test_same_size_and_mtime_but_new_bytes_is_caught_by_ctime(tmp_path: Path) -> None:
    """An edit that keeps the size and puts the mtime back (an editor, a `touch -r`): the
    kernel still moves ctime, which nobody can set, so the file is read again."""
    path = _file(tmp_path, b"x = 1\n")
    first = FileFacts.load(tmp_path / "cache")
    first.digest(path)
    before = path.stat()
    path.write_bytes(b"x = 2\n")
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    _settle()
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    second = _next_run(tmp_path / "cache", first)

    assert second.digest(path) == hashlib.sha256(b"x = 2\n").hexdigest()


def test_a_file_replaced_by_another_of_the_same_stat_is_caught_by_its_inode(
    tmp_path: Path,
) -> None:
    path = _file(tmp_path, b"x = 1\n")
    first = FileFacts.load(tmp_path / "cache")
    first.digest(path)
    other = path.with_name("new.py")
    other.write_bytes(b"x = 3\n")
    os.utime(other, ns=(OLD, OLD))
    keep = path.with_name("keep.py")
    os.link(path, keep)  # the old inode stays alive, so the new file cannot reuse its number
    other.replace(path)
    _settle()
    second = _next_run(tmp_path / "cache", first)

    assert second.digest(path) == hashlib.sha256(b"x = 3\n").hexdigest()


def test_a_file_changed_just_before_it_was_hashed_is_not_remembered(tmp_path: Path) -> None:
    path = tmp_path / "fresh.py"
    path.write_bytes(b"x = 1\n")  # mtime and ctime: now, within a timestamp tick of the hash
    first = FileFacts.load(tmp_path / "cache")
    first.digest(path)
    second = _next_run(tmp_path / "cache", first)

    second.digest(path)

    assert second.hashed == 1


def test_damaged_facts_are_reported_and_discarded(tmp_path: Path) -> None:
    path = _file(tmp_path, b"x = 1\n")
    first = FileFacts.load(tmp_path / "cache")
    first.digest(path)
    first.save()
    stored = facts_module.path(tmp_path / "cache")
    right = hashlib.sha256(b"x = 1\n").hexdigest().encode()
    assert stored.read_bytes().count(right) == 1
    stored.write_bytes(stored.read_bytes().replace(right, b"0" * 64))  # the seal left as it was

    second = FileFacts.load(tmp_path / "cache")

    assert len(second.warnings) == 1 and "changed after it was written" in second.warnings[0]
    assert not stored.exists()
    assert second.digest(path) == hashlib.sha256(b"x = 1\n").hexdigest()
    assert second.hashed == 1


@pytest.mark.parametrize("content", [b"", b"not json", b'{"sha256": "x"}'])
def test_unreadable_facts_are_a_warning_not_a_traceback(tmp_path: Path, content: bytes) -> None:
    stored = facts_module.path(tmp_path / "cache")
    stored.parent.mkdir(parents=True)
    stored.write_bytes(content)

    loaded = FileFacts.load(tmp_path / "cache")

    assert len(loaded.warnings) == 1


def test_the_seal_is_checked_on_the_bytes_as_written(tmp_path: Path) -> None:
    body = {"digests": {}, "imports": {"k": [["json", 1, False]]}, "native": {}, "derived": {}}
    data = facts_module.seal(body)

    assert facts_module.unsealed(data) == body
    for damaged in (
        data[:-1],  # cut short
        data.replace(b'"json"', b'"jsom"'),  # a byte changed, the seal left as it was
        data.replace(b'{"sha256":"', b'{"sha256": "'),  # re-encoded: not these bytes
        b"",
    ):
        with pytest.raises(ValueError):
            facts_module.unsealed(damaged)


def test_facts_saved_in_this_process_are_taken_again_without_reading_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, b"x = 1\n")
    first = FileFacts.load(tmp_path / "cache")
    first.digest(path)
    first.save()
    reads: list[bytes] = []
    monkeypatch.setattr(facts_module, "unsealed", lambda data: reads.append(data) or {})

    second = FileFacts.load(tmp_path / "cache")  # `package` plans, then executes

    assert reads == []
    assert second.digest(path) == hashlib.sha256(b"x = 1\n").hexdigest()
    assert second.hashed == 0


def test_facts_another_run_wrote_since_are_read_from_the_file(tmp_path: Path) -> None:
    path = _file(tmp_path, b"x = 1\n")
    mine = FileFacts.load(tmp_path / "cache")
    mine.digest(path)
    mine.save()
    theirs = facts_module.seal({"digests": {}, "imports": {}, "native": {}, "derived": {}})
    files.write_bytes(facts_module.path(tmp_path / "cache"), theirs)  # another run's rename

    again = FileFacts.load(tmp_path / "cache")

    assert again.warnings == []
    again.digest(path)
    assert again.hashed == 1  # what the file holds now: nothing about app.py
