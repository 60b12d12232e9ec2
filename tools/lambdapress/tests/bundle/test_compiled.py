"""First-party bytecode: compiled once per module and target, the bytes compileall writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle import _compiled
from lambdapress.bundle._entries import EntryStore
from lambdapress.bundle.bytecode import compile_tree, find_compiler

PYTHON = "3.11"
MODULES = {"app/__init__.py": b"", "app/models.py": b"X = 1\n\ndef f():\n    return X\n"}


@pytest.fixture
def compiler() -> str:
    found = find_compiler(PYTHON)
    if found is None:  # pragma: no cover - the tool's own interpreter is 3.11 in CI
        pytest.skip(f"no Python {PYTHON} here")
    return found


def _tree(folder: Path, modules: dict[str, bytes]) -> Path:
    for name, data in modules.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_bytes(data)
    return folder


def _pycs(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*.pyc")}


def test_placed_bytecode_is_what_compileall_writes(
    tmp_path: Path, compiler: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = _tree(tmp_path / "reference", MODULES)
    compile_tree(reference, compiler)
    store = EntryStore(tmp_path / "cache")
    first = _tree(tmp_path / "first", MODULES)
    _compiled.compile_staging(first, compiler, PYTHON, store)
    again = _tree(tmp_path / "again", MODULES)

    calls: list[Path] = []

    def counted(folder: Path, interpreter: str) -> None:
        calls.append(folder)
        compile_tree(folder, interpreter)

    monkeypatch.setattr(_compiled, "compile_tree", counted)
    _compiled.compile_staging(again, compiler, PYTHON, store)

    assert calls == []  # every module was compiled before: the interpreter never started
    assert _pycs(first) == _pycs(reference) == _pycs(again)
    assert sorted(_pycs(again)) == [_compiled.pyc_arcname(name, PYTHON) for name in sorted(MODULES)]


def test_the_key_follows_bytes_path_and_target() -> None:
    base = _compiled.key("/usr/bin/python3.11", "3.11", "app/a.py", b"x = 1\n")
    assert base != _compiled.key("/usr/bin/python3.11", "3.11", "app/a.py", b"x = 2\n")
    assert base != _compiled.key("/usr/bin/python3.11", "3.11", "app/b.py", b"x = 1\n")
    assert base != _compiled.key("/usr/bin/python3.12", "3.12", "app/a.py", b"x = 1\n")


def test_damaged_kept_bytecode_is_reported_and_compiled_again(
    tmp_path: Path, compiler: str
) -> None:
    store = EntryStore(tmp_path / "cache")
    _compiled.compile_staging(_tree(tmp_path / "first", MODULES), compiler, PYTHON, store)
    (kept,) = [
        p
        for p in (store.root / "derived").rglob("*")
        if p.is_file()
        and p.name == _compiled.key(compiler, PYTHON, "app/models.py", MODULES["app/models.py"])
    ]
    data = bytearray(kept.read_bytes())
    data[-1] ^= 0xFF
    kept.write_bytes(bytes(data))
    warnings: list[str] = []
    store = EntryStore(tmp_path / "cache", on_warning=warnings.append)
    again = _tree(tmp_path / "again", MODULES)

    _compiled.compile_staging(again, compiler, PYTHON, store)

    assert warnings == [f"stored file {kept} was changed after it was written: made again"]
    assert _pycs(again) == _pycs(tmp_path / "first")


def test_a_sweep_removes_a_killed_precompile_tree(tmp_path: Path) -> None:
    from lambdapress.bundle import _entries
    from lambdapress.support import files

    store = EntryStore(tmp_path / "cache")
    left = files.temporary_path(store.root / "derived" / "compile", folder=True)
    (left / "app.py").write_text("x = 1\n")

    _entries.sweep(tmp_path / "cache", 0.0)

    assert not left.exists()
