"""Unzip a function's artifact into the task root its workers run from.

The zip is checked against the manifest's sha256 first: the emulator runs exactly what was
built, and a zip that changed since (a half-finished rebuild, a hand edit) is refused with the
command that fixes it. Task roots are content addressed, so functions built from the same
inputs share one folder, and extraction happens once per emulator.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

from lambdapress.errors import EmulatorError
from lambdapress.model.application import Function
from lambdapress.support import files
from lambdapress.support.integrity import file_digest


def sha256_of(path: Path) -> str:
    """The zip's sha256, as the manifest records it."""
    return file_digest(path)


def artifact_path(entry: Function, root: Path) -> Path:
    """The function's zip, as the manifest names it relative to the repository root."""
    return (root / entry.artifact.path).resolve()


def extract_artifact(entry: Function, root: Path, into: Path) -> Path:
    """The task root of `entry` under `into` (extracted now unless it already is)."""
    zip_path = artifact_path(entry, root)
    if not zip_path.is_file():
        raise EmulatorError(
            f"the artifact of {entry.name} does not exist",
            path=zip_path,
            hint="run `nox -s package` to build it",
        )
    actual = sha256_of(zip_path)
    if actual != entry.artifact.sha256:
        raise EmulatorError(
            f"the artifact of {entry.name} does not match the manifest "
            f"(sha256 {actual[:12]}..., manifest says {entry.artifact.sha256[:12]}...)",
            path=zip_path,
            hint="rebuild with `nox -s package` so the zips and dist/manifest.json agree",
        )
    task_root = into / actual
    if task_root.is_dir():
        return task_root
    # Another thread or process extracting the same zip first keeps its copy.
    with files.staged_folder(task_root) as staging:
        try:
            with zipfile.ZipFile(zip_path) as archive:
                for info in archive.infolist():
                    target = Path(archive.extract(info, staging))
                    mode = (info.external_attr >> 16) & 0o7777
                    if mode and not info.is_dir():
                        target.chmod(mode)
        except zipfile.BadZipFile as exc:
            raise EmulatorError(
                f"the artifact of {entry.name} is not a valid zip: {exc}",
                path=zip_path,
                hint="rebuild it with `nox -s package`",
            ) from None
    return task_root
