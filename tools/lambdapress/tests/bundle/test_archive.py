"""Zips whose bytes depend only on their content."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

from lambdapress.bundle.archive import Entry, describe_zip, write_zip


def test_same_entries_in_any_order_give_the_same_bytes(tmp_path: Path) -> None:
    source = tmp_path / "b.py"
    source.write_text("print('b')\n")
    entries = [Entry("pkg/b.py", source=source), Entry("a.py", content=b"A = 1\n")]
    first = write_zip(entries, tmp_path / "one.zip")
    second = write_zip(list(reversed(entries)), tmp_path / "two.zip")
    assert (tmp_path / "one.zip").read_bytes() == (tmp_path / "two.zip").read_bytes()
    assert first == second
    digest = hashlib.sha256((tmp_path / "one.zip").read_bytes()).digest()
    assert first.code_sha256 == base64.b64encode(digest).decode()
    assert (first.files, first.unzipped_size) == (2, len("print('b')\n") + len("A = 1\n"))
    assert describe_zip(tmp_path / "one.zip") == first
    with zipfile.ZipFile(tmp_path / "one.zip") as archive:
        assert archive.namelist() == ["a.py", "pkg/b.py"]


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    entries = [Entry("a.py", content=b"1"), Entry("a.py", content=b"2")]
    try:
        write_zip(entries, tmp_path / "out.zip")
    except ValueError as error:
        assert "a.py" in str(error)
    else:  # pragma: no cover - the assertion below explains the failure
        raise AssertionError("duplicate paths must be refused")
    assert list(tmp_path.iterdir()) == []
