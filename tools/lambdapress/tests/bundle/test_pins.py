"""A service pinned to a published version of a shared package ships that wheel, not the source."""

from __future__ import annotations

import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult
from lambdapress.errors import ModelsError
from lambdapress.indexes.pins import Pin
from lambdapress.model.manifest import read_manifest
from lambdapress.publish.models import with_accepted
from lambdapress.publish.pins import pin_text
from lambdapress.publish.pypiserver import plan_server, start_server
from lambdapress.support.loopback import free_port

Build = Callable[[Path], PackageResult]


def test_a_pinned_shared_package_ships_as_its_published_wheel(
    shop: Path, build: Build, tmp_path: Path
) -> None:
    index_folder = tmp_path / "index"
    wheels = index_folder / "packages"
    wheels.mkdir(parents=True)
    subprocess.run(
        ["uv", "build", "--quiet", "--wheel", "--out-dir", str(wheels), "packages/shop-models"],
        cwd=shop,
        check=True,
    )
    plan = plan_server(index_folder, port=free_port(), fallback=False)
    with start_server(plan) as server:
        pyproject = shop / "services/shop/pyproject.toml"
        pin = Pin(
            package="shop-models",
            version="1.0.0",
            index="local",
            index_url=f"{server.plan.url}simple/",
        )
        pinned = pin_text(pyproject.read_text(), pin, pyproject)
        pyproject.write_text(pinned)
        # a published version the service has not accepted never ships, whoever plans the build
        with pytest.raises(ModelsError, match="accept_models"):
            build(shop)
        # as `lambdapress pin` does: the service accepts the version it pins
        pyproject.write_text(with_accepted(pinned, "shop-models", "1.0.0", pyproject))
        # the source moves on after the release: the pinned function must not see it
        model = shop / "packages/shop-models/src/shop_models/item.py"
        model.write_text(model.read_text() + "\nUNRELEASED = True\n")
        build(shop)

    manifest = read_manifest(shop / "dist" / "manifest.json")
    get_item = manifest.function("shop.get_item")
    assert get_item.contents.distributions == {"shop-models": "1.0.0"}
    assert not any(m.startswith("shop_models") for m in get_item.contents.modules)
    with zipfile.ZipFile(shop / get_item.artifact.path) as archive:
        names = set(archive.namelist())
        shipped_model = archive.read("shop_models/item.py").decode()
    assert "shop_models-1.0.0.dist-info/METADATA" in names
    assert "UNRELEASED" not in shipped_model
