"""Lambda's facts: the tables agree with each other, with copier.yml and with their users."""

from __future__ import annotations

from pathlib import Path
from typing import Any, get_args

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from lambdapress.bundle.targets import Target
from lambdapress.config.lambda_platform import (
    ARCHITECTURES,
    DEFAULT_ARCHITECTURE,
    DEFAULT_RUNTIME,
    MEMORY_MAX_MB,
    MEMORY_MIN_MB,
    RUNTIMES,
    TIMEOUT_MAX_SECONDS,
    TIMEOUT_MIN_SECONDS,
    PythonVersion,
    Runtime,
    architecture_of_machine,
    runtime_of,
)
from lambdapress.config.settings import ServiceSettings
from lambdapress.emulator._ric import wheel_platform

COPIER = yaml.safe_load((Path(__file__).resolve().parents[4] / "copier.yml").read_text())


def test_every_runtime_has_facts_and_a_python_version() -> None:
    assert tuple(RUNTIMES) == get_args(Runtime)
    assert tuple(f.python for f in RUNTIMES.values()) == get_args(PythonVersion)
    assert all(runtime_of(facts.python) == name for name, facts in RUNTIMES.items())


def test_copier_offers_the_runtimes_and_architectures_of_the_table() -> None:
    assert COPIER["runtime"]["choices"] == list(RUNTIMES)
    assert COPIER["runtime"]["default"] == DEFAULT_RUNTIME
    assert COPIER["architecture"]["choices"] == list(ARCHITECTURES)
    assert COPIER["architecture"]["default"] == DEFAULT_ARCHITECTURE


@pytest.mark.parametrize("question", ["runtime", "architecture", "memory", "timeout"])
def test_copier_and_the_settings_have_the_same_defaults(question: str) -> None:
    assert COPIER[question]["default"] == getattr(ServiceSettings(), question)


def _refused_by_copier(question: str, value: int) -> bool:
    template = SandboxedEnvironment().from_string(COPIER[question]["validator"])
    context: dict[str, Any] = {question: value}
    return bool(template.render(context).strip())


@pytest.mark.parametrize(
    ("question", "low", "high"),
    [
        ("memory", MEMORY_MIN_MB, MEMORY_MAX_MB),
        ("timeout", TIMEOUT_MIN_SECONDS, TIMEOUT_MAX_SECONDS),
    ],
)
def test_copier_and_the_settings_accept_the_same_range(question: str, low: int, high: int) -> None:
    for value in (low - 1, low, high, high + 1):
        refused = not low <= value <= high
        assert _refused_by_copier(question, value) == refused, value
        try:
            ServiceSettings.model_validate({question: value})
        except ValueError:
            assert refused, value
        else:
            assert not refused, value


@pytest.mark.parametrize(
    ("machine", "architecture"),
    [("x86_64", "x86_64"), ("AMD64", "x86_64"), ("aarch64", "arm64"), ("arm64", "arm64")],
)
def test_machine_names_map_to_lambda_architectures(machine: str, architecture: str) -> None:
    assert architecture_of_machine(machine) == architecture
    wheel = ARCHITECTURES[architecture_of_machine(machine) or "x86_64"].wheel
    assert wheel_platform("Linux", machine) == f"{wheel}-manylinux2014"


def test_a_machine_lambda_does_not_run_has_no_architecture() -> None:
    assert architecture_of_machine("riscv64") is None
    assert wheel_platform("Linux", "riscv64") is None


@pytest.mark.parametrize("runtime", list(RUNTIMES))
def test_targets_read_the_wheel_platform_from_the_table(runtime: Runtime) -> None:
    facts = RUNTIMES[runtime]
    target = Target.of(ServiceSettings(runtime=runtime, architecture="arm64"))
    assert target.runtime == runtime
    assert target.uv_platform == f"aarch64-{facts.manylinux}"
    assert target.marker_environment()["platform_machine"] == "aarch64"
    platforms = {tag.platform for tag in target.wheel_tags()}
    assert f"manylinux_2_{facts.glibc_minor}_aarch64" in platforms
    assert f"manylinux_2_{facts.glibc_minor + 1}_aarch64" not in platforms


def test_every_runtime_has_a_library_list_from_its_manylinux_policy() -> None:
    from lambdapress.config.lambda_platform import RUNTIMES, runtime_libraries

    for runtime, facts in RUNTIMES.items():
        libraries = runtime_libraries(runtime)
        glibc_policy = "manylinux_2_17" if facts.manylinux == "manylinux2014" else facts.manylinux
        assert libraries.policy == glibc_policy
        assert libraries.provides("libc.so.6")
        assert libraries.provides("libstdc++.so.6")
        assert libraries.provides("ld-linux-x86-64.so.2")
        # What Lambda's image lacks: a database client library, graphics.
        assert not libraries.provides("libpq.so.5")
        assert not libraries.provides("libX11.so.6")
        assert set(libraries.sources) == {"manylinux", "cpython"}


def test_the_runtimes_on_amazon_linux_2023_carry_openssl_3() -> None:
    from lambdapress.config.lambda_platform import runtime_libraries

    assert runtime_libraries("python3.12").provides("libssl.so.3")
    assert not runtime_libraries("python3.11").provides("libssl.so.3")
