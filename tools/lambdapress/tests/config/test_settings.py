"""[tool.lambdapress] validation: AWS's limits, typos caught, errors that say the fix."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
from pydantic import ValidationError

from lambdapress.config.lambda_platform import RESERVED_ENVIRONMENT
from lambdapress.config.settings import (
    ServiceSettings,
    load_service_settings,
    parse_service_settings,
)
from lambdapress.errors import ConfigError

ORDERS = """
[project]
name = "orders"
version = "0.1.0"

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"
memory = 256
timeout = 10

[tool.lambdapress.environment]
POWERTOOLS_SERVICE_NAME = "orders"
POWERTOOLS_LOG_LEVEL = "INFO"
"""

Writer = Callable[[Path, str], Path]


def settings_file(tmp_path: Path, write_file: Writer, body: str) -> Path:
    return write_file(tmp_path / "pyproject.toml", '[project]\nname = "x"\n' + body)


def test_defaults_when_the_table_is_absent(tmp_path: Path) -> None:
    settings = parse_service_settings({"project": {"name": "x"}}, tmp_path / "pyproject.toml")
    assert settings == ServiceSettings()
    assert (settings.runtime, settings.architecture, settings.memory, settings.timeout) == (
        "python3.12",
        "x86_64",
        256,
        10,
    )
    assert settings.environment == {}
    assert settings.include == []
    assert settings.python_version == "3.12"


def test_loads_the_documented_example(tmp_path: Path, write_file: Writer) -> None:
    settings = load_service_settings(write_file(tmp_path / "pyproject.toml", ORDERS))
    assert settings.runtime == "python3.11"
    assert settings.python_version == "3.11"
    assert settings.memory == 256
    assert settings.environment == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }


def test_settings_are_frozen() -> None:
    settings = ServiceSettings()
    with pytest.raises(ValidationError):
        settings.memory = 512


def test_memory_out_of_range_names_file_key_line_and_range(
    tmp_path: Path, write_file: Writer
) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress]\nmemory = 64\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    err = info.value
    assert err.path == path
    assert err.line == 4
    assert "`tool.lambdapress.memory`" in err.message
    assert "(got 64)" in err.message
    assert err.hint == "use a whole number of MB from 128 to 10240"


@pytest.mark.parametrize(
    ("body", "key"),
    [
        ("memory = 10241", "memory"),
        ("timeout = 0", "timeout"),
        ("timeout = 901", "timeout"),
        ('memory = "256"', "memory"),
        ("memory = 256.0", "memory"),
        ('architecture = "aarch64"', "architecture"),
        ("ephemeral_storage = 511", "ephemeral_storage"),
        ("ephemeral_storage = 10241", "ephemeral_storage"),
        ("ephemeral_storage = 0", "ephemeral_storage"),
        ('ephemeral_storage = "1GB"', "ephemeral_storage"),
        ("ephemeral_storage = 1024.0", "ephemeral_storage"),
    ],
)
def test_invalid_values_are_refused(
    tmp_path: Path, write_file: Writer, body: str, key: str
) -> None:
    path = settings_file(tmp_path, write_file, f"[tool.lambdapress]\n{body}\n")
    with pytest.raises(ConfigError, match=re.escape(f"tool.lambdapress.{key}")):
        load_service_settings(path)


def test_bounds_are_inclusive(tmp_path: Path, write_file: Writer) -> None:
    low = settings_file(tmp_path, write_file, "[tool.lambdapress]\nmemory = 128\ntimeout = 1\n")
    assert (load_service_settings(low).memory, load_service_settings(low).timeout) == (128, 1)
    high = write_file(tmp_path / "high.toml", "[tool.lambdapress]\nmemory = 10240\ntimeout = 900\n")
    assert (load_service_settings(high).memory, load_service_settings(high).timeout) == (10240, 900)


def test_unknown_runtime_lists_the_allowed_ones(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, '[tool.lambdapress]\nruntime = "python3.9"\n')
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "(got 'python3.9')" in info.value.message
    assert info.value.hint == "use one of python3.11, python3.12, python3.13"


def test_typo_is_an_error_with_a_suggestion(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress]\nmemroy = 512\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert info.value.message == "unknown key `tool.lambdapress.memroy`"
    assert info.value.line == 4
    assert info.value.hint is not None
    assert info.value.hint.startswith("did you mean `memory`?")


def test_unrelated_unknown_key_lists_known_keys(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress]\nzzz = 1\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert info.value.hint is not None
    assert "known keys: runtime, architecture, memory, timeout, environment, include" in (
        info.value.hint
    )


@pytest.mark.parametrize(
    "name",
    [
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_LAMBDA_FUNCTION_NAME",
        "AWS_LAMBDA_RUNTIME_API",
        "_HANDLER",
        "LAMBDA_TASK_ROOT",
        "LAMBDA_RUNTIME_DIR",
        "AWS_EXECUTION_ENV",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "TZ",
    ],
)
def test_reserved_environment_names_are_refused(
    tmp_path: Path, write_file: Writer, name: str
) -> None:
    path = settings_file(
        tmp_path, write_file, f'[tool.lambdapress.environment]\nOK_NAME = "1"\n{name} = "x"\n'
    )
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert name in RESERVED_ENVIRONMENT
    assert f"`tool.lambdapress.environment.{name}`" in info.value.message
    assert "reserved" in info.value.message
    assert info.value.line == 5


def test_settable_lambda_variables_are_accepted() -> None:
    settings = ServiceSettings(
        environment={"AWS_LAMBDA_EXEC_WRAPPER": "/opt/wrapper", "LANG": "C.UTF-8", "A_1": "x"}
    )
    assert settings.environment["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/wrapper"


@pytest.mark.parametrize("name", ["1ABC", "MY-VAR", "X", "WITH SPACE", "_PRIVATE"])
def test_invalid_environment_names_are_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="environment"):
        ServiceSettings(environment={name: "x"})


def test_environment_values_must_be_strings(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress.environment]\nDEBUG_MODE = 1\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "valid string" in info.value.message
    assert info.value.hint is not None
    assert "values quoted" in info.value.hint


def test_environment_total_size_is_limited() -> None:
    # Lambda measures the variables as one JSON object: {"BIG":"xxx..."} is 10 bytes more.
    with pytest.raises(ValidationError, match="4096"):
        ServiceSettings(environment={"BIG": "x" * 4087})
    assert ServiceSettings(environment={"BIG": "x" * 4086}).environment["BIG"]
    # quotes and non-ASCII letters take their JSON escapes
    with pytest.raises(ValidationError, match="4096"):
        ServiceSettings(environment={"BIG": '"' * 2044})
    with pytest.raises(ValidationError, match="4096"):
        ServiceSettings(environment={"BIG": "é" * 1000})
    assert ServiceSettings(environment={"BIG": "é" * 681})


def test_a_nul_in_a_variable_is_refused_with_its_line(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        '[project]\nname = "orders"\n\n[tool.lambdapress.environment]\nOK = "1"\n'
        'BAD = "a\\u0000b"\n'
    )
    with pytest.raises(ConfigError, match="NUL") as caught:
        load_service_settings(pyproject)
    assert caught.value.path == pyproject and caught.value.line is not None


def test_include_takes_dotted_module_names(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(
        tmp_path, write_file, '[tool.lambdapress]\ninclude = ["orders.plugins", "extra"]\n'
    )
    assert load_service_settings(path).include == ["orders.plugins", "extra"]
    bad = write_file(tmp_path / "bad.toml", '[tool.lambdapress]\ninclude = ["orders/plugins"]\n')
    with pytest.raises(ConfigError, match="not a dotted module name"):
        load_service_settings(bad)


def test_several_problems_are_reported_together(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress]\nmemory = 1\ntimeout = 0\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    message = info.value.message
    assert "tool.lambdapress.memory" in message
    assert "tool.lambdapress.timeout" in message
    assert info.value.line == 4


def test_toml_syntax_errors_surface_as_config_errors(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, "[tool.lambdapress\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert info.value.line == 3


def test_allow_files_takes_relative_paths_and_globs(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(
        tmp_path,
        write_file,
        '[tool.lambdapress]\nallow_files = ["src/orders/certs/ca.pem", "orders/keys/*.pub"]\n',
    )
    assert load_service_settings(path).allow_files == [
        "src/orders/certs/ca.pem",
        "orders/keys/*.pub",
    ]
    assert ServiceSettings().allow_files == []


@pytest.mark.parametrize(
    "value", ['["/etc/ssl/ca.pem"]', '["../other/ca.pem"]', '[""]', '"ca.pem"', "[1]"]
)
def test_allow_files_outside_the_service_or_of_the_wrong_type_are_refused(
    tmp_path: Path, write_file: Writer, value: str
) -> None:
    path = settings_file(tmp_path, write_file, f"[tool.lambdapress]\nallow_files = {value}\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "tool.lambdapress.allow_files" in info.value.message
    assert info.value.line == 4
    assert "relative to the service" in (info.value.hint or "")


def test_a_huge_number_is_reported_not_printed(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, f"[tool.lambdapress]\nmemory = {'9' * 4000}\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "(got a number of about 4000 digits)" in info.value.message


def test_a_number_too_long_for_python_is_a_config_error(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, f"[tool.lambdapress]\nmemory = {'9' * 5000}\n")
    with pytest.raises(ConfigError, match="invalid TOML") as info:
        load_service_settings(path)
    assert info.value.path == path


def test_long_values_are_cut_short_in_messages(tmp_path: Path, write_file: Writer) -> None:
    path = settings_file(tmp_path, write_file, f'[tool.lambdapress]\nruntime = "{"x" * 500}"\n')
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "x" * 100 not in info.value.message and "...)" in info.value.message


def test_ephemeral_storage_takes_lambdas_range_and_says_how_to_fix_it(
    tmp_path: Path, write_file: Writer
) -> None:
    default = settings_file(tmp_path, write_file, "[tool.lambdapress]\n")
    assert load_service_settings(default).ephemeral_storage == 512
    for size in (512, 4096, 10240):
        path = write_file(
            tmp_path / f"{size}.toml", f"[tool.lambdapress]\nephemeral_storage = {size}\n"
        )
        assert load_service_settings(path).ephemeral_storage == size
    path = write_file(tmp_path / "small.toml", "[tool.lambdapress]\nephemeral_storage = 256\n")
    with pytest.raises(ConfigError) as info:
        load_service_settings(path)
    assert "`tool.lambdapress.ephemeral_storage`" in info.value.message
    assert info.value.hint == "use a whole number of MB from 512 to 10240"


def test_docstrings_default_to_the_checked_list_and_a_wrong_value_names_all_three(
    tmp_path: Path, write_file: Writer
) -> None:
    assert ServiceSettings().docstrings == "checked"
    for value in ("checked", "first-party", "all"):
        path = settings_file(tmp_path, write_file, f'[tool.lambdapress]\ndocstrings = "{value}"\n')
        assert load_service_settings(path).docstrings == value

    path = settings_file(tmp_path, write_file, '[tool.lambdapress]\ndocstrings = "none"\n')
    with pytest.raises(ConfigError, match=re.escape("tool.lambdapress.docstrings")) as info:
        load_service_settings(path)
    assert info.value.line == 4
    assert info.value.hint is not None
    assert all(f'"{value}"' in info.value.hint for value in ("checked", "first-party", "all"))
