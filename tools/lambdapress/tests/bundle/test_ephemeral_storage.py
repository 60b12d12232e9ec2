"""`ephemeral_storage` travels from `[tool.lambdapress]` into the manifest (emulator, deploy)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from lambdapress.bundle.pipeline import PackageResult
from lambdapress.model.manifest import read_manifest


def test_the_setting_reaches_every_function_of_the_service(
    shop: Path, build: Callable[[Path], PackageResult]
) -> None:
    build(shop)
    before = read_manifest(shop / "dist" / "manifest.json")
    assert {f.ephemeral_storage for f in before.functions} == {512}  # Lambda's default

    pyproject = shop / "services" / "shop" / "pyproject.toml"
    text = pyproject.read_text().replace("timeout = 5\n", "timeout = 5\nephemeral_storage = 2048\n")
    pyproject.write_text(text)
    build(shop)

    after = read_manifest(shop / "dist" / "manifest.json")
    assert {f.ephemeral_storage for f in after.functions} == {2048}
