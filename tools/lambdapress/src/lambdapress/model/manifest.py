"""`dist/manifest.json`: the application model, serialised; the one contract after `package`.

The emulator, the template renderers, deploy, sync, destroy and bench read this file and the
stage's settings, never the services' pyproject files, so a function runs and deploys exactly
as it was built. The file carries `schema_version`; its JSON Schema is generated from the
models (`manifest_schema`), committed next to this module (`manifest.schema.json`, checked by
a test) and documented in the README. A manifest of another version is refused with what to
run: version 1 (lambdapress 0.3) has no resources or permissions to migrate from, and a
newer one was written by a newer lambdapress.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from lambdapress.config.validation import Source, config_error
from lambdapress.errors import ConfigError
from lambdapress.model.application import SCHEMA_VERSION, Application
from lambdapress.model.kinds import RESOURCES, TRIGGERS, schema_of
from lambdapress.support import files

SCHEMA_FILE = Path(__file__).with_name("manifest.schema.json")
SCHEMA_ID = "https://lambdapress.dev/schemas/manifest-2.json"


def manifest_path(root: Path) -> Path:
    """Where `lambdapress package` writes the manifest under the repository root."""
    return root / "dist" / "manifest.json"


def read_manifest(path: Path) -> Application:
    """Load a manifest, or a ConfigError that says how to make one."""
    try:
        text = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            "no manifest: nothing has been packaged yet",
            path=path,
            hint="run `nox -s package` (or `lambdapress package`) first",
        ) from None
    except OSError as exc:
        raise ConfigError(
            f"cannot read the manifest: {exc.strerror or exc}",
            path=path,
            hint="rebuild it with `nox -s package`",
        ) from None
    try:
        application = Application.model_validate_json(text)
    except ValidationError as exc:
        _check_version(text, path)  # another version: say what to run instead
        source = Source(
            path,
            (),
            {},
            default_fix="rebuild it with `nox -s package`",
            quote_values=False,
            toml=False,
        )
        raise config_error(exc, source, "not a lambdapress manifest", always_heading=True) from None
    if "schema_version" not in application.model_fields_set:
        _check_version(text, path)  # valid but for the version it does not state: refused
    return application


def _check_version(text: bytes, path: Path) -> None:
    """Refuse, with what to run, a manifest of another schema version (or none).

    Asked only of a manifest the model refused, or that states no version: the JSON of a
    valid one (hundreds of functions) is not parsed twice.
    """
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return  # not JSON: the model's own error says so, naming the file
    if not isinstance(data, dict):
        return
    version = data.get("schema_version", data.get("version"))
    if version == SCHEMA_VERSION:
        return
    if isinstance(version, int) and not isinstance(version, bool) and version < SCHEMA_VERSION:
        raise ConfigError(
            f"the manifest has schema version {version}, written by an older lambdapress; "
            f"this one reads version {SCHEMA_VERSION} (functions with their triggers, the "
            "resources they use and their permissions, which version 1 did not record)",
            path=path,
            hint="package again: `nox -s package` (or `lambdapress package`) writes version "
            f"{SCHEMA_VERSION}",
        )
    if isinstance(version, int) and not isinstance(version, bool):
        raise ConfigError(
            f"the manifest has schema version {version}, written by a newer lambdapress; this "
            f"one reads version {SCHEMA_VERSION}",
            path=path,
            hint="use the lambdapress version the project pins (`uv sync`), or package again",
        )
    if version is not None or "functions" in data:
        raise ConfigError(
            f"the manifest has no valid schema_version (it says {version!r})",
            path=path,
            hint="rebuild it with `nox -s package`",
        )


def manifest_text(application: Application) -> str:
    """The manifest's bytes for `application`: sorted keys, two-space indents, one newline."""
    return json.dumps(application.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def write_manifest(application: Application, path: Path) -> bool:
    """Write atomically, and only when it changed; returns whether it was written.

    Readers see the old manifest or the new one, never half of one.
    """
    payload = manifest_text(application)
    try:
        if path.read_text(encoding="utf-8") == payload:
            return False
    except (OSError, UnicodeDecodeError):
        pass
    files.write_text(path, payload)
    return True


def manifest_schema() -> dict[str, Any]:
    """The JSON Schema of the manifest, from the models and the registered kinds."""
    schema = Application.model_json_schema()
    definitions = schema.setdefault("$defs", {})
    _replace_definition(definitions, "Trigger", schema_of(TRIGGERS))
    _replace_definition(definitions, "Resource", schema_of(RESOURCES))
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "lambdapress manifest",
        "description": "dist/manifest.json: the application model lambdapress package builds "
        "(functions, their triggers, the resources they use, their permissions)",
        **schema,
    }


def _replace_definition(definitions: dict[str, Any], name: str, one_of: dict[str, Any]) -> None:
    """Each kind's schema in `$defs`, and the family's definition as one of them."""
    choices = []
    for kind_schema in one_of["oneOf"]:
        nested = kind_schema.pop("$defs", {})
        definitions.update(nested)
        title = kind_schema.get("title", "Kind")
        definitions[title] = kind_schema
        choices.append({"$ref": f"#/$defs/{title}"})
    definitions[name] = {"oneOf": choices}


def schema_text() -> str:
    """`manifest_schema()` as the committed file holds it."""
    return json.dumps(manifest_schema(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":  # `python -m lambdapress.model.manifest > manifest.schema.json`
    print(schema_text(), end="")
