"""Interpreters found by one run are taken by the next without starting candidates again."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from lambdapress.bundle import bytecode
from lambdapress.support.toolchain import Choice


@pytest.fixture
def fresh_process() -> Iterator[None]:
    """What a new process knows: nothing found yet."""

    def forget() -> None:
        bytecode.find_compiler.cache_clear()
        bytecode._known.clear()

    forget()
    yield
    forget()


def test_an_interpreter_found_once_is_not_probed_again_while_its_file_is_the_same(
    fresh_process: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    searches: list[str] = []
    find_interpreter = bytecode.find_interpreter

    def counted(minor: str) -> Choice:
        searches.append(minor)
        return find_interpreter(minor)

    monkeypatch.setattr(bytecode, "find_interpreter", counted)
    facts = tmp_path / "facts"
    facts.mkdir()

    save = bytecode.remember_compilers(facts)
    found = bytecode.find_compiler("3.11")
    save()
    assert found is not None and searches == ["3.11"]

    bytecode.find_compiler.cache_clear()  # the next run
    bytecode._known.clear()
    bytecode.remember_compilers(facts)
    assert bytecode.find_compiler("3.11") == found
    assert searches == ["3.11"]

    # The interpreter changed since (another file at that path): found again.
    document = json.loads((facts / "interpreters.json").read_text())
    document["3.11"][1][1] += 1  # its mtime
    (facts / "interpreters.json").write_text(json.dumps(document))
    bytecode.find_compiler.cache_clear()
    bytecode._known.clear()
    bytecode.remember_compilers(facts)
    assert bytecode.find_compiler("3.11") == found
    assert searches == ["3.11", "3.11"]


def test_a_damaged_record_of_interpreters_is_ignored(fresh_process: None, tmp_path: Path) -> None:
    (tmp_path / "interpreters.json").write_text('{"3.11": ["/nowhere", "not a stat"]}')

    bytecode.remember_compilers(tmp_path)

    assert bytecode.find_compiler("3.11") not in (None, "/nowhere")
