"""The ELF reader: the libraries a shared object needs, read as the dynamic loader reads them."""

from __future__ import annotations

import io
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from lambdapress.bundle._elf import Dynamic, ElfError, parse_dynamic, read_dynamic

MakeElf = Callable[..., bytes]


@pytest.mark.parametrize(("wide", "little"), [(True, True), (False, True), (True, False)])
def test_needed_soname_and_runpath_are_read_in_every_class_and_byte_order(
    make_elf: MakeElf, wide: bool, little: bool
) -> None:
    data = make_elf(
        ("libpq.so.5", "libc.so.6"),
        soname="libdemo.so.1",
        runpath="$ORIGIN/../demo.libs:$ORIGIN",
        machine=183,
        wide=wide,
        little=little,
    )
    assert parse_dynamic(io.BytesIO(data)) == Dynamic(
        machine=183,
        needed=("libpq.so.5", "libc.so.6"),
        soname="libdemo.so.1",
        search_path=("$ORIGIN/../demo.libs", "$ORIGIN"),
    )


def test_a_file_that_is_not_elf_is_none(tmp_path: Path) -> None:
    script = tmp_path / "libfoo.so"
    script.write_text("/* GNU ld script */\nGROUP ( libfoo.so.1 )\n")
    assert read_dynamic(script) is None
    empty = tmp_path / "empty.so"
    empty.write_bytes(b"")
    assert read_dynamic(empty) is None


def test_a_truncated_object_is_an_elf_error(make_elf: MakeElf) -> None:
    data = make_elf(("libpq.so.5",))
    with pytest.raises(ElfError, match="past the end of the file"):
        parse_dynamic(io.BytesIO(data[:150]))


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    needed=st.lists(st.text("abcdefghijklmnopqrstuvwxyz.-_0123456789", min_size=1), max_size=4),
    cut=st.integers(min_value=0, max_value=400),
    flips=st.lists(st.tuples(st.integers(0, 399), st.integers(1, 255)), max_size=6),
)
@example(needed=[], cut=58, flips=[(39, 128)])  # a program header offset past ssize_t
def test_damaged_objects_give_an_answer_or_an_elf_error_never_a_crash(
    make_elf: MakeElf, needed: list[str], cut: int, flips: list[tuple[int, int]]
) -> None:
    data = bytearray(make_elf(tuple(needed))[: max(cut, 4)])
    for position, mask in flips:
        if 4 <= position < len(data):  # keep the magic: the reader then must parse the rest
            data[position] ^= mask
    try:
        found = parse_dynamic(io.BytesIO(bytes(data)))
    except ElfError:
        return
    assert found is None or isinstance(found, Dynamic)


@pytest.mark.skipif(shutil.which("gcc") is None, reason="needs gcc to build real objects")
def test_objects_built_by_gcc_read_as_readelf_shows_them(tmp_path: Path) -> None:
    """The crafted objects above against what a real toolchain writes."""

    def gcc(*args: str) -> None:
        done = subprocess.run(["gcc", *args], cwd=tmp_path, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr

    (tmp_path / "stub.c").write_text("int PQlibVersion(void) { return 170000; }\n")
    (tmp_path / "ext.c").write_text(
        "int PQlibVersion(void);\nint version(void) { return PQlibVersion(); }\n"
    )
    gcc("-shared", "-fPIC", "-o", "libpq.so.5", "-Wl,-soname,libpq.so.5", "stub.c")
    gcc(
        "-shared", "-fPIC", "-o", "_ext.so", "ext.c", "./libpq.so.5",
        "-Wl,-soname,_ext.so", "-Wl,-rpath,$ORIGIN/../ext.libs", "-Wl,--enable-new-dtags",
    )  # fmt: skip

    found = read_dynamic(tmp_path / "_ext.so")

    assert found is not None
    assert "libpq.so.5" in found.needed
    assert found.soname == "_ext.so"
    assert found.search_path == ("$ORIGIN/../ext.libs",)
    library = read_dynamic(tmp_path / "libpq.so.5")
    assert library is not None and library.soname == "libpq.so.5"
    assert "libpq.so.5" not in library.needed
