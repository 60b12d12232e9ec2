"""The dynamic section of an ELF shared object: the libraries it needs, its soname, its rpath.

The bundler asks one question of every shipped native extension and bundled library: which
shared libraries will the dynamic loader look for when Lambda imports it (`DT_NEEDED`)? The
answer is in the file's dynamic segment, found through the program headers exactly as the
loader finds it (sections may be stripped). Only the stdlib `struct` module is used: the
tool has no ELF library among its dependencies, and this is all of ELF it needs.

Layout (the System V ABI, "Object Files" and "Dynamic Linking"): the header says the class
(32 or 64 bits), the byte order, the machine and where the program headers are; the
`PT_DYNAMIC` program header points at `(d_tag, d_val)` pairs ending with `DT_NULL`;
`DT_STRTAB` gives the string table's address, which the `PT_LOAD` headers map to a file
offset; `DT_NEEDED`, `DT_SONAME`, `DT_RPATH` and `DT_RUNPATH` are offsets into that table.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

MAGIC = b"\x7fELF"
_PT_LOAD = 1
_PT_DYNAMIC = 2
_DT_NULL = 0
_DT_NEEDED = 1
_DT_STRTAB = 5
_DT_STRSZ = 10
_DT_SONAME = 14
_DT_RPATH = 15
_DT_RUNPATH = 29
_MAX_ENTRIES = 100_000  # a dynamic segment bigger than this is not a real one
_MAX_STRING = 4096


class ElfError(ValueError):
    """The file starts like an ELF object but its headers do not hold together."""


@dataclass(frozen=True)
class Dynamic:
    """What the dynamic loader reads from one shared object."""

    machine: int
    """`e_machine`: 62 for x86_64, 183 for aarch64."""
    needed: tuple[str, ...]
    """`DT_NEEDED`: the sonames it must load first, in order."""
    soname: str | None
    """`DT_SONAME`: the name other objects need it by."""
    search_path: tuple[str, ...]
    """`DT_RUNPATH` (or the older `DT_RPATH`) entries, `$ORIGIN` unexpanded."""


@dataclass(frozen=True)
class _Layout:
    order: str  # struct byte order: "<" or ">"
    wide: bool  # ELFCLASS64

    def unpack(self, fmt: str, data: bytes, offset: int = 0) -> tuple[int, ...]:
        try:
            return struct.unpack_from(self.order + fmt, data, offset)
        except struct.error as error:
            raise ElfError(f"truncated header ({error})") from None


def read_dynamic(path: Path) -> Dynamic | None:
    """The dynamic section of the ELF file at `path`; None when it is not an ELF file.

    A static object (no `PT_DYNAMIC`) needs nothing: `needed` is empty. Raises ElfError for
    a file with ELF's magic whose headers point outside it, and OSError when it cannot be read.
    """
    with path.open("rb") as file:
        return parse_dynamic(file)


def parse_dynamic(file: BinaryIO) -> Dynamic | None:
    """`read_dynamic` for an open binary file (read with seeks: only the headers are read)."""
    ident = file.read(16)
    if ident[:4] != MAGIC:
        return None
    if len(ident) < 16 or ident[4] not in (1, 2) or ident[5] not in (1, 2):
        raise ElfError("unknown ELF class or byte order")
    layout = _Layout(order="<" if ident[5] == 1 else ">", wide=ident[4] == 2)
    header = file.read(48 if layout.wide else 36)
    if layout.wide:
        _type, machine, _version, _entry, phoff, _shoff, _flags, _ehsize, phentsize, phnum = (
            layout.unpack("HHIQQQIHHH", header)
        )
    else:
        _type, machine, _version, _entry, phoff, _shoff, _flags, _ehsize, phentsize, phnum = (
            layout.unpack("HHIIIIIHHH", header)
        )
    program_header = "IIQQQQQQ" if layout.wide else "IIIIIIII"
    if phnum and phentsize < struct.calcsize(layout.order + program_header):
        raise ElfError(f"program header entries of {phentsize} bytes are too small")
    headers = _read(file, phoff, phentsize * phnum)
    loads: list[tuple[int, int, int]] = []  # (vaddr, filesz, offset)
    dynamic: tuple[int, int] | None = None  # (offset, filesz)
    for index in range(phnum):
        fields = layout.unpack(program_header, headers, index * phentsize)
        if layout.wide:
            p_type, _flags, p_offset, p_vaddr, _paddr, p_filesz = fields[:6]
        else:
            p_type, p_offset, p_vaddr, _paddr, p_filesz = fields[:5]
        if p_type == _PT_LOAD:
            loads.append((p_vaddr, p_filesz, p_offset))
        elif p_type == _PT_DYNAMIC:
            dynamic = (p_offset, p_filesz)
    if dynamic is None:
        return Dynamic(machine=machine, needed=(), soname=None, search_path=())
    entries = _dynamic_entries(file, layout, *dynamic)
    strtab = next((value for tag, value in entries if tag == _DT_STRTAB), None)
    strsz = next((value for tag, value in entries if tag == _DT_STRSZ), None)
    named = [(tag, value) for tag, value in entries if tag in _NAMED_TAGS]
    if not named:
        return Dynamic(machine=machine, needed=(), soname=None, search_path=())
    if strtab is None:
        raise ElfError("a dynamic section names libraries but has no string table")
    table = _file_offset(strtab, loads)
    table_end = table + strsz if strsz is not None else None

    def string(value: int) -> str:
        start = table + value
        if table_end is not None and start >= table_end:
            raise ElfError(f"string offset {value} is outside the string table")
        data = _read(file, start, _MAX_STRING, exact=False)
        end = data.find(b"\0")
        if end < 0:
            raise ElfError(f"unterminated string at offset {value}")
        return data[:end].decode("utf-8", errors="replace")

    needed = tuple(string(v) for tag, v in named if tag == _DT_NEEDED)
    soname = next((string(v) for tag, v in named if tag == _DT_SONAME), None)
    runpath = [string(v) for tag, v in named if tag == _DT_RUNPATH]
    rpath = [string(v) for tag, v in named if tag == _DT_RPATH]
    # The loader ignores DT_RPATH when DT_RUNPATH is present.
    chosen = runpath or rpath
    search_path = tuple(p for value in chosen for p in value.split(":") if p)
    return Dynamic(machine=machine, needed=needed, soname=soname, search_path=search_path)


_NAMED_TAGS = frozenset({_DT_NEEDED, _DT_SONAME, _DT_RPATH, _DT_RUNPATH})


def _dynamic_entries(
    file: BinaryIO, layout: _Layout, offset: int, size: int
) -> list[tuple[int, int]]:
    entry = "qQ" if layout.wide else "iI"
    width = struct.calcsize(layout.order + entry)
    count = min(size // width, _MAX_ENTRIES)
    data = _read(file, offset, count * width)
    entries: list[tuple[int, int]] = []
    for index in range(count):
        tag, value = layout.unpack(entry, data, index * width)
        if tag == _DT_NULL:
            break
        entries.append((tag, value))
    return entries


def _file_offset(address: int, loads: list[tuple[int, int, int]]) -> int:
    """Where the loaded address `address` is in the file, through the PT_LOAD segments."""
    for vaddr, filesz, offset in loads:
        if vaddr <= address < vaddr + filesz:
            return address - vaddr + offset
    raise ElfError(f"address {address:#x} is in no loaded segment")


def _read(file: BinaryIO, offset: int, size: int, *, exact: bool = True) -> bytes:
    """`size` bytes at `offset`, never past the end of the file.

    Offsets and sizes come from the file itself: a damaged one may say gigabytes (65535
    program headers of 65535 bytes) or more than an index can hold. They are checked against
    the file's size before anything is allocated or sought.
    """
    end = file.seek(0, os.SEEK_END)
    if offset < 0 or size < 0 or offset > end:
        raise ElfError(f"offset {offset} is outside the file")
    if offset + size > end:
        if exact:
            raise ElfError(f"{size} bytes at offset {offset} run past the end of the file")
        size = end - offset
    file.seek(offset)
    return file.read(size)
