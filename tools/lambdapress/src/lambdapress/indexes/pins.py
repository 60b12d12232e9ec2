"""A service's pins, read: the published versions of shared packages it ships.

The pin itself (Poetry's `version` + `source` form, and why) is described in
`lambdapress.publish.pins`, which writes it; reading needs only tomllib, so the bundler sees
pins without loading the publisher or tomlkit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from lambdapress.config.pyproject import load_toml


class Pin(BaseModel):
    """A service's dependency on a published version of a shared package."""

    model_config = ConfigDict(frozen=True)

    package: str
    version: str
    index: str
    """The index's name in `[tool.lambdapress.indexes]` of the root pyproject."""
    index_url: str


def read_pins(pyproject: Path) -> tuple[Pin, ...]:
    """The pins of a service's pyproject (empty when it builds everything from source)."""
    return pins_in(load_toml(pyproject))


def pins_in(document: Any) -> tuple[Pin, ...]:
    """Pins of a parsed pyproject: a `==` version from a named `[[tool.poetry.source]]`."""
    poetry = document.get("tool", {}).get("poetry", {})
    sources = {s.get("name"): s.get("url") for s in poetry.get("source", []) if "name" in s}
    pins = []
    for name, spec in poetry.get("dependencies", {}).items():
        if not isinstance(spec, dict) or "source" not in spec:
            continue
        version = str(spec.get("version", ""))
        index = str(spec["source"])
        if version.startswith("==") and index in sources:
            pins.append(
                Pin(package=name, version=version[2:], index=index, index_url=str(sources[index]))
            )
    return tuple(pins)
