"""The output formats `lambdapress template --format` writes, registered by name.

A format turns the application model and a stage's settings into the text of a template: the
same functions, zips and keys, written the way a team's pipeline takes them. The built-in
formats are listed once below by module path and imported the first time the registry is
asked for anything (so `lambdapress package` never loads a renderer); a project's plugin or a
test registers its own with `register_output_format` and `template --format` offers it.

The registry lives here rather than in `model/` because only the command line reads it and a
renderer takes the deploy settings (`deploy.config.DeployConfig`), which the model is below.
"""

from __future__ import annotations

import importlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from lambdapress.deploy.config import DeployConfig
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application

# Each module registers the formats it defines when it is imported.
BUILT_IN_FORMATS = ("lambdapress.formats._cloudformation", "lambdapress.formats._sam")
DEFAULT_FORMAT = "cloudformation"
_NAME = re.compile(r"^[a-z][a-z0-9-]{0,31}$")
_SUFFIX = re.compile(r"^\.[a-z0-9]+(\.[a-z0-9]+)*$")

Render = Callable[[Application, DeployConfig, str, str | None], str]
"""`render(application, config, stage, bucket)`: the template's text. Pure: no disk, no AWS.
`bucket` is the `ArtifactBucket` parameter's default (None: given at deploy time)."""


@dataclass(frozen=True)
class OutputFormat:
    """One way to write a stage's template: a name, a file suffix and a renderer."""

    name: str
    """What `--format` takes, and the folder under `dist/` it writes to (`sam`)."""
    suffix: str
    """The file's suffix, with its dot (`.json`, `.yaml`)."""
    description: str
    """One line for `--help`: what the file is for."""
    render: Render

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(
                f"an output format's name is lowercase letters, digits and dashes: {self.name!r}"
            )
        if not _SUFFIX.match(self.suffix):
            raise ValueError(f"an output format's suffix starts with a dot: {self.suffix!r}")

    def file_name(self, stack: str) -> str:
        """`acme-dev.yaml`: the stack's template in this format."""
        return f"{stack}{self.suffix}"


_FORMATS: dict[str, OutputFormat] = {}
_built_ins_loaded = False


def register_output_format(output_format: OutputFormat) -> OutputFormat:
    """Offer `output_format` to `template --format`; returns it (so a module can keep it).

    A second format under a taken name is refused, unless it is the same object again.
    """
    known = _FORMATS.get(output_format.name)
    if known is not None and known is not output_format:
        raise ValueError(f"output format {output_format.name!r} is registered twice")
    _FORMATS[output_format.name] = output_format
    return output_format


def unregister_output_format(name: str) -> None:
    """Forget a format (a test that registers one of its own cleans up with this)."""
    _FORMATS.pop(name, None)


def output_formats() -> tuple[OutputFormat, ...]:
    """Every registered format, built-in ones included, sorted by name."""
    _load_built_ins()
    return tuple(_FORMATS[name] for name in sorted(_FORMATS))


def output_format(name: str) -> OutputFormat:
    """The format called `name`, or a ConfigError listing the ones there are."""
    _load_built_ins()
    found = _FORMATS.get(name)
    if found is None:
        known = ", ".join(sorted(_FORMATS))
        raise ConfigError(
            f"no output format named {name!r} (known: {known})",
            hint=f"choose one of {known}",
        )
    return found


def resource_count(text: str) -> int | None:
    """How many resources a CloudFormation-shaped template (JSON or YAML) declares.

    None when the text is not such a template (a format of another kind of tool).
    """
    document: Any
    try:
        document = json.loads(text)
    except ValueError:
        try:
            document = yaml.load(text, Loader=_Loader)  # noqa: S506 (a safe loader)
        except yaml.YAMLError:
            return None
    resources = document.get("Resources") if isinstance(document, dict) else None
    return len(resources) if isinstance(resources, dict) else None


_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _load_built_ins() -> None:
    """Import each built-in format's module once; importing it registers its format."""
    global _built_ins_loaded
    if _built_ins_loaded:
        return
    for module in BUILT_IN_FORMATS:
        importlib.import_module(module)
    _built_ins_loaded = True
