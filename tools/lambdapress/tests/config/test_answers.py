"""Copier answer files: typed private keys, plain public answers, errors naming the file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from lambdapress.config.answers import CopierAnswers, parse_answers, read_answers
from lambdapress.errors import ConfigError

Writer = Callable[[Path, str], Path]

SERVICE_ANSWERS = """
# Changes here will be overwritten by Copier
_commit: v0.3.0
_src_path: gh:acme/lambdapress-template
kind: service
models_package: acme-models
resource: orders
endpoints:
- list
- get
memory: 256
"""


def test_reads_a_service_answers_file(tmp_path: Path, write_file: Writer) -> None:
    answers = read_answers(write_file(tmp_path / ".copier-answers.yml", SERVICE_ANSWERS))
    assert answers.src_path == "gh:acme/lambdapress-template"
    assert answers.commit == "v0.3.0"
    assert answers.kind == "service"
    assert answers.values == {
        "models_package": "acme-models",
        "resource": "orders",
        "endpoints": ["list", "get"],
        "memory": 256,
    }


def test_private_keys_other_than_src_and_commit_are_dropped(tmp_path: Path) -> None:
    answers = parse_answers(
        {"_src_path": "/t", "_commit": 7, "_extra": "x", "project_name": "p"}, tmp_path
    )
    assert answers.commit == "7"
    assert answers.kind is None
    assert answers.values == {"project_name": "p"}


def test_commit_is_optional(tmp_path: Path) -> None:
    assert parse_answers({"_src_path": "/t"}, tmp_path).commit is None


def test_answers_are_frozen() -> None:
    answers = CopierAnswers(src_path="/t")
    with pytest.raises(ValidationError):
        answers.src_path = "/other"


def test_malformed_yaml_names_file_and_line(tmp_path: Path, write_file: Writer) -> None:
    path = write_file(tmp_path / ".copier-answers.yml", "_src_path: /t\nkind: [service\n")
    with pytest.raises(ConfigError) as info:
        read_answers(path)
    assert info.value.path == path
    assert info.value.line is not None
    assert info.value.line >= 2
    assert info.value.message.startswith("invalid YAML")


def test_a_list_is_not_an_answers_file(tmp_path: Path, write_file: Writer) -> None:
    path = write_file(tmp_path / ".copier-answers.yml", "- a\n- b\n")
    with pytest.raises(ConfigError, match="YAML mapping") as info:
        read_answers(path)
    assert info.value.path == path


def test_missing_src_path_says_how_to_fix(tmp_path: Path, write_file: Writer) -> None:
    path = write_file(tmp_path / ".copier-answers.yml", "kind: service\n")
    with pytest.raises(ConfigError, match="_src_path") as info:
        read_answers(path)
    assert info.value.hint is not None
    assert "_src_path:" in info.value.hint


def test_missing_file_names_it(tmp_path: Path) -> None:
    path = tmp_path / ".copier-answers.yml"
    with pytest.raises(ConfigError, match="not found") as info:
        read_answers(path)
    assert info.value.path == path
