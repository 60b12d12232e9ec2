"""The platform a function runs on, as the wheel installer and the marker evaluator see it."""

from __future__ import annotations

import functools
from collections.abc import Mapping

from packaging.tags import Tag, compatible_tags, cpython_tags
from pydantic import BaseModel, ConfigDict

from lambdapress.config.lambda_platform import (
    ARCHITECTURES,
    RUNTIMES,
    Architecture,
    PythonVersion,
    Runtime,
    runtime_of,
)
from lambdapress.config.settings import ServiceSettings


class Target(BaseModel):
    """A Lambda Python version and architecture: what wheels and bytecode are built for."""

    model_config = ConfigDict(frozen=True)

    python: PythonVersion
    architecture: Architecture

    @classmethod
    def of(cls, settings: ServiceSettings) -> Target:
        """The target of a service's settings."""
        return cls.model_validate(
            {"python": settings.python_version, "architecture": settings.architecture}
        )

    @property
    def key(self) -> str:
        """A folder-safe name: `cp312-arm64`."""
        return f"cp{self.python.replace('.', '')}-{self.architecture}"

    @property
    def uv_platform(self) -> str:
        """uv's `--python-platform` for this target, e.g. `aarch64-manylinux_2_34`."""
        return f"{ARCHITECTURES[self.architecture].wheel}-{RUNTIMES[self.runtime].manylinux}"

    @property
    def runtime(self) -> Runtime:
        """The Lambda runtime of this Python version: `python3.12`."""
        return runtime_of(self.python)

    def wheel_tags(self) -> frozenset[Tag]:
        """Every wheel tag Lambda's interpreter accepts (worked out once per target)."""
        return _accepted_tags(self.python, self.architecture)

    def tag_ranks(self) -> Mapping[Tag, int]:
        """Each accepted tag's rank, 0 for the most specific.

        The wheel an installer prefers is the one whose best tag ranks first (a `cp312` build
        over `abi3`, a newer manylinux over an older one), as uv and pip choose.
        """
        return _ranked_tags(self.python, self.architecture)

    def marker_environment(self) -> dict[str, str]:
        """PEP 508 marker values as they are on Lambda, to pick dependencies for the target."""
        machine = ARCHITECTURES[self.architecture].wheel
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{self.python}.0",
            "os_name": "posix",
            "platform_machine": machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": "Linux",
            "platform_version": "",
            "python_full_version": f"{self.python}.0",
            "python_version": self.python,
            "sys_platform": "linux",
        }


@functools.cache
def _accepted_tags(python: PythonVersion, architecture: Architecture) -> frozenset[Tag]:
    return frozenset(_ranked_tags(python, architecture))


@functools.cache
def _ranked_tags(python: PythonVersion, architecture: Architecture) -> Mapping[Tag, int]:
    """The tags of a target in order of preference, built once.

    Planning checks every locked package against them.
    """
    machine = ARCHITECTURES[architecture].wheel
    newest = RUNTIMES[runtime_of(python)].glibc_minor
    platforms = [f"manylinux_2_{minor}_{machine}" for minor in range(newest, 4, -1)]
    platforms += [f"manylinux2014_{machine}"]
    if machine == "x86_64":
        platforms += ["manylinux2010_x86_64", "manylinux1_x86_64"]
    major, minor = (int(part) for part in python.split("."))
    tags = list(cpython_tags((major, minor), platforms=platforms))
    tags += compatible_tags((major, minor), f"cp{major}{minor}", platforms)
    ranks: dict[Tag, int] = {}
    for tag in tags:
        ranks.setdefault(tag, len(ranks))
    return ranks
