"""One formatter for pydantic's errors: the manifest's mistakes read like the settings' ones."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from lambdapress.errors import ConfigError
from lambdapress.model.manifest import read_manifest


def test_a_wrong_manifest_lists_its_problems_by_key(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"schema_version": 2, "functions": 7}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    assert caught.value.message == (
        "not a lambdapress manifest:\n  - `functions`: Input should be a valid array"
    )
    assert caught.value.hint == "rebuild it with `nox -s package`"
    assert caught.value.line is None


def test_a_manifest_wrong_everywhere_lists_ten_problems_and_counts_the_rest(
    tmp_path: Path,
) -> None:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps({"schema_version": 2, "functions": [{}, {}]}), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        read_manifest(path)
    lines = caught.value.message.splitlines()
    assert len(lines) == 1 + 11
    assert lines[1] == "  - `functions.0.name`: required, but not set"
    assert lines[-1].startswith("  - ... and ") and lines[-1].endswith(" more")


def test_invalid_json_is_one_problem_without_a_key(tmp_path: Path) -> None:
    path = tmp_path / "manifest.json"
    path.write_text("{nope", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"not a lambdapress manifest:\n  - Invalid JSON"):
        read_manifest(path)
