"""load_toml and key positions: every failure names the file, and the line when known."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.config.pyproject import find_key_line, get_table, load_toml
from lambdapress.errors import ConfigError


def test_loads_valid_toml(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert load_toml(path) == {"project": {"name": "x"}}


def test_missing_file_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load_toml(path)
    assert info.value.path == path
    assert "file not found" in str(info.value)
    assert info.value.hint


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text('[project]\nname = "x"\nversion = \n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_toml(path)
    err = info.value
    assert err.path == path
    assert err.line == 3
    assert "(at line" not in err.message
    assert str(err).startswith(f"{path}:3: invalid TOML")


def test_non_utf8_file_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_bytes(b'name = "\xff\xfe"\n')
    with pytest.raises(ConfigError, match="cannot read"):
        load_toml(path)


def test_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_toml(tmp_path)
    assert info.value.path == tmp_path


def test_get_table_returns_nested_table_or_none(tmp_path: Path) -> None:
    data = {"tool": {"uv": {"workspace": {"members": ["a/*"]}}}}
    path = tmp_path / "p.toml"
    assert get_table(data, "tool.uv.workspace", path) == {"members": ["a/*"]}
    assert get_table(data, "tool.poetry", path) is None
    assert get_table({}, "tool", path) is None


def test_get_table_refuses_a_scalar_where_a_table_belongs(tmp_path: Path) -> None:
    path = tmp_path / "pyproject.toml"
    path.write_text("[tool]\nlambdapress = 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        get_table(load_toml(path), "tool.lambdapress", path)
    assert info.value.line == 2
    assert "`tool.lambdapress` must be a table" in info.value.message


def test_find_key_line_in_a_section(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        '[project]\nname = "x"\n\n[tool.lambdapress]\nruntime = "python3.12"\nmemory = 64\n',
        encoding="utf-8",
    )
    assert find_key_line(path, ["tool", "lambdapress", "memory"]) == 6
    assert find_key_line(path, ["project", "name"]) == 2


def test_find_key_line_in_subtable_and_inline_table(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        "[tool.lambdapress]\nmemory = 1\n[tool.lambdapress.environment]\nA = 'b'\nBB = 'c'\n",
        encoding="utf-8",
    )
    assert find_key_line(path, ["tool", "lambdapress", "environment", "BB"]) == 5
    inline = tmp_path / "inline.toml"
    inline.write_text('[tool.lambdapress]\nenvironment = { BB = "c" }\n', encoding="utf-8")
    assert find_key_line(inline, ["tool", "lambdapress", "environment", "BB"]) == 2


def test_find_key_line_dotted_key_and_top_level(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('title = "t"\n[tool]\nlambdapress.memory = 3\n', encoding="utf-8")
    assert find_key_line(path, ["tool", "lambdapress", "memory"]) == 3
    assert find_key_line(path, ["title"]) == 1


def test_find_key_line_falls_back_to_the_header(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[project]\nname = "x"\n[tool.lambdapress]\n', encoding="utf-8")
    assert find_key_line(path, ["tool", "lambdapress", "memory"]) == 3


def test_find_key_line_unknown_or_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text('[project]\nname = "x"\n', encoding="utf-8")
    assert find_key_line(path, ["tool", "other", "key"]) is None
    assert find_key_line(tmp_path / "missing.toml", ["a"]) is None


def test_find_key_line_of_a_key_that_is_a_table_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "p.toml"
    path.write_text(
        "[tool.lambdapress]\nmemory = 1\n\n[tool.lambdapress.functions.get_order]\nx = 1\n"
        '\n[tool.lambdapress.functions."list"]\ny = 2\n',
        encoding="utf-8",
    )
    assert find_key_line(path, ["tool", "lambdapress", "functions", "get_order"]) == 4
    assert find_key_line(path, ["tool", "lambdapress", "functions", "list"]) == 7
