"""The entry store and the zip assembler: compressed once, and the bytes zipfile writes."""

from __future__ import annotations

import hashlib
import os
import tempfile
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from lambdapress.bundle import _entries
from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle.archive import Entry, write_zip, write_zip_with_zipfile
from lambdapress.bundle.pipeline import cache_in_use
from lambdapress.support import files

NAMES = st.lists(
    st.text(
        alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz_./é"), min_size=1, max_size=30
    ).filter(lambda n: not n.startswith("/") and not n.endswith("/") and "//" not in n),
    unique=True,
    max_size=12,
)
CONTENTS = st.one_of(st.binary(max_size=3000), st.text(max_size=3000).map(str.encode))


def _zip_both(tmp_path: Path, files: dict[str, bytes]) -> tuple[bytes, bytes, bytes]:
    """The zip of `files` written by zipfile, assembled in memory, and assembled from a store."""
    tree = tmp_path / "tree"
    listed: list[Entry] = []
    for index, (name, data) in enumerate(sorted(files.items())):
        path = tree / f"{index}.bin"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        listed.append(Entry(name, source=path))
    store = EntryStore(tmp_path / "cache")
    written = []
    for label, writer in (
        ("zipfile", lambda e, d: write_zip_with_zipfile(e, d)),
        ("memory", lambda e, d: write_zip(e, d)),
        ("store", lambda e, d: write_zip(e, d, store)),
    ):
        destination = tmp_path / f"{label}.zip"
        archive = writer(listed, destination)
        data = destination.read_bytes()
        assert archive.sha256 == hashlib.sha256(data).hexdigest()
        assert archive.size == len(data)
        written.append(data)
    return written[0], written[1], written[2]


@settings(max_examples=60, deadline=None)
@given(names=NAMES, contents=st.data())
def test_assembled_zips_are_byte_identical_to_zipfiles(
    names: list[str], contents: st.DataObject
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        files = {name: contents.draw(CONTENTS) for name in names}
        reference, memory, stored = _zip_both(Path(folder), files)
        assert memory == reference
        assert stored == reference
        with zipfile.ZipFile(Path(folder) / "store.zip") as archive:
            assert archive.testzip() is None
            assert {n: archive.read(n) for n in archive.namelist()} == files


def test_empty_and_large_files_are_byte_identical(tmp_path: Path) -> None:
    large = os.urandom(3 * 1024 * 1024) + b"x" * (5 * 1024 * 1024)  # several chunks, mixed
    reference, memory, stored = _zip_both(
        tmp_path, {"empty.txt": b"", "big.bin": large, "pkg/__init__.py": b""}
    )
    assert memory == reference and stored == reference


def test_a_sample_tree_zips_as_zipfile_wrote_it(tmp_path: Path) -> None:
    """The tool's own sources, as a real tree: the assembled zip is zipfile's, byte for byte."""
    source = Path(_entries.__file__).parents[1]
    listed = [
        Entry(p.relative_to(source).as_posix(), source=p)
        for p in sorted(source.rglob("*.py"))
        if "__pycache__" not in p.parts
    ]
    reference = write_zip_with_zipfile(listed, tmp_path / "reference.zip")
    assembled = write_zip(listed, tmp_path / "assembled.zip", EntryStore(tmp_path / "cache"))
    assert assembled == reference
    assert (tmp_path / "assembled.zip").read_bytes() == (tmp_path / "reference.zip").read_bytes()


def test_each_content_is_compressed_once(tmp_path: Path) -> None:
    store = EntryStore(tmp_path / "cache")
    reads: list[bytes] = []

    def read() -> bytes:
        reads.append(b"shared")
        return b"shared"

    digest = hashlib.sha256(b"shared").hexdigest()
    first = store.entry(digest, read)
    again = store.entry(digest, read)
    fresh = EntryStore(tmp_path / "cache").entry(digest, read)
    assert reads == [b"shared"]
    assert first == again == fresh
    assert first.path == _entries.folder(tmp_path / "cache") / digest[:2] / digest


def _stored(tmp_path: Path, data: bytes) -> tuple[EntryStore, str, Path]:
    store = EntryStore(tmp_path / "cache")
    digest = hashlib.sha256(data).hexdigest()
    path = store.entry(digest, lambda: data).path
    return store, digest, path


def test_a_damaged_entry_is_detected_discarded_and_compressed_again(tmp_path: Path) -> None:
    data = b"print('hello')\n" * 100
    _, digest, path = _stored(tmp_path, data)
    damaged = bytearray(path.read_bytes())
    damaged[-3] ^= 0xFF  # same size, one byte of the stream flipped
    path.write_bytes(bytes(damaged))
    warnings: list[str] = []
    store = EntryStore(tmp_path / "cache", on_warning=warnings.append)

    entry = store.entry(digest, lambda: data)

    assert warnings == [
        f"stored entry {path} was changed after it was written: thrown away and compressed again"
    ]
    assert path.read_bytes() != bytes(damaged)
    write_zip([Entry("a.py", content=data)], tmp_path / "a.zip", store)
    with zipfile.ZipFile(tmp_path / "a.zip") as archive:
        assert archive.read("a.py") == data
    assert entry.file_size == len(data)


def test_a_truncated_entry_is_detected(tmp_path: Path) -> None:
    data = os.urandom(5000)
    _, digest, path = _stored(tmp_path, data)
    path.write_bytes(path.read_bytes()[:-10])
    warnings: list[str] = []
    store = EntryStore(tmp_path / "cache", on_warning=warnings.append)

    store.entry(digest, lambda: data)

    assert len(warnings) == 1 and "compressed bytes" in warnings[0]
    write_zip([Entry("r.bin", content=data)], tmp_path / "r.zip", store)
    with zipfile.ZipFile(tmp_path / "r.zip") as archive:
        assert archive.read("r.bin") == data


def test_an_entry_damaged_during_a_run_is_checked_again(tmp_path: Path) -> None:
    data = b"x = 1\n" * 50
    store, digest, path = _stored(tmp_path, data)
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")  # a new write: new mtime and size check
    os.utime(path, ns=(1, 1))
    warnings: list[str] = []
    store._warn = warnings.append  # the same store, as a long run would hold it

    store.entry(digest, lambda: data)

    assert len(warnings) == 1


def test_a_sweep_removes_what_killed_runs_left_in_the_store(tmp_path: Path) -> None:
    path = _stored(tmp_path, b"kept")[2]
    left = path.parent / ".lambdapress-tmp-abc-123"
    left.write_bytes(b"half")

    _entries.sweep(tmp_path / "cache", 0.0)

    assert not left.exists() and path.exists()


def test_threads_asking_for_the_same_content_compress_it_once(tmp_path: Path) -> None:
    store = EntryStore(tmp_path / "cache")
    data = os.urandom(200_000)
    digest = hashlib.sha256(data).hexdigest()
    reads: list[int] = []
    gate = threading.Barrier(4)

    def read() -> bytes:
        reads.append(1)
        return data

    def ask() -> object:
        gate.wait()
        return store.entry(digest, read)

    with ThreadPoolExecutor(4) as pool:
        found = list(pool.map(lambda _: ask(), range(4)))

    assert reads == [1]
    assert len(set(found)) == 1


DAY = 24 * 3600.0


def _age(path: Path, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(path, (then, then))


def test_entries_no_build_read_for_a_month_are_pruned_and_a_read_counts_as_use(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    _, _, stale = _stored(tmp_path, b"stale")
    store, digest, used = _stored(tmp_path, b"used")
    store.keep("ab" + "0" * 62, b"old bytecode")
    kept = _entries.folder(cache) / "derived" / "ab" / ("ab" + "0" * 62)
    for path in (stale, used, kept):
        _age(path, 40)
    EntryStore(cache).entry(digest, lambda: b"used")  # another run reads it: used today

    with cache_in_use(cache):  # alone: the store is pruned
        pass

    assert not stale.exists() and not kept.exists()
    assert used.exists()
    assert EntryStore(cache).entry(digest, lambda: b"used").path == used


def test_a_run_that_shares_the_cache_prunes_nothing_and_pruning_waits_a_day(
    tmp_path: Path,
) -> None:
    cache = tmp_path / "cache"
    _, _, stale = _stored(tmp_path, b"stale")
    _age(stale, 40)

    # Another run holds the cache:
    with files.claim(cache, lambda _older_than: None), cache_in_use(cache):
        assert stale.exists()
    with cache_in_use(cache):  # alone
        assert not stale.exists()

    _, _, again = _stored(tmp_path, b"stale")
    _age(again, 40)
    with cache_in_use(cache):
        assert again.exists()  # pruned less than a day ago
    assert _entries.prune(cache, every=0) == 1
    assert not again.exists()
