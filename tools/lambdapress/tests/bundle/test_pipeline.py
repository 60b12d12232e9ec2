"""`lambdapress package` on a real workspace: contents, manifest, caching, reproducibility."""

from __future__ import annotations

import ast
import base64
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle import (
    PackageOptions,
    PackageResult,
    _artifacts,
    _publishing,
    discovery,
    plan_package,
)
from lambdapress.bundle._build import check_limits
from lambdapress.bundle._facts import path as facts_path
from lambdapress.bundle._facts import seal, unsealed
from lambdapress.bundle.archive import Archive
from lambdapress.errors import BundleError
from lambdapress.model import manifest as manifest_module
from lambdapress.model.manifest import read_manifest

Build = Callable[[Path], PackageResult]


def names_in(zip_path: Path) -> set[str]:
    with zipfile.ZipFile(zip_path) as archive:
        return set(archive.namelist())


def dist_state(root: Path) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of every file in dist/: tells whether a file was rewritten."""
    return {
        str(p.relative_to(root)): (p.stat().st_ino, p.stat().st_mtime_ns)
        for p in sorted((root / "dist").rglob("*"))
        if p.is_file()
    }


def statuses(result: PackageResult) -> dict[str, str]:
    return {f.name: f.status for f in result.functions}


def rewritten(result: PackageResult) -> set[str]:
    """Functions whose zip was produced again (built, or taken from the shared cache)."""
    return {f.name for f in result.functions if f.status != "unchanged"}


def test_each_handler_gets_a_zip_with_only_what_it_imports(shop: Path, build: Build) -> None:
    build(shop)
    get_item = names_in(shop / "dist" / "shop" / "get_item.zip")
    create_item = names_in(shop / "dist" / "shop" / "create_item.zip")

    assert {"shop/handlers/get_item.py", "shop/store.py", "shop/web.py"} <= get_item
    assert {"shop_models/__init__.py", "shop_models/item.py", "shop_models/schema.json"} <= get_item
    assert "shop/render.py" not in get_item
    assert not any(n.startswith("markupsafe/") for n in get_item), "only create_item imports it"
    assert any(n.startswith("markupsafe/") for n in create_item)
    assert "shop/handlers/get_item.py" not in create_item
    # a module no handler imports (only under TYPE_CHECKING) is in no zip
    assert "shop/unused.py" not in get_item | create_item
    # six is declared but never imported: not shipped
    assert not any(n.startswith("six") for n in get_item | create_item)


def test_zips_never_carry_tests_secrets_or_caches(shop: Path, build: Build) -> None:
    build(shop)
    for artifact in (shop / "dist" / "shop").glob("*.zip"):
        for name in names_in(artifact):
            parts = name.split("/")
            assert "tests" not in parts and ".env" not in parts and ".git" not in parts, name
            assert not name.endswith(("RECORD", "INSTALLER", "direct_url.json", ".pyi")), name
            assert not name.startswith("."), name


def test_manifest_describes_every_function(shop: Path, build: Build) -> None:
    build(shop)
    manifest = read_manifest(shop / "dist" / "manifest.json")
    assert [f.name for f in manifest.functions] == ["shop.create_item", "shop.get_item"]
    get_item = manifest.function("shop.get_item")
    assert get_item.handler == "shop.handlers.get_item.handler"
    assert [r.route_key for r in get_item.routes] == ["GET /items/{item_id}"]
    assert get_item.artifact.path == "dist/shop/get_item.zip"
    data = (shop / get_item.artifact.path).read_bytes()
    assert get_item.artifact.sha256 == hashlib.sha256(data).hexdigest()
    assert get_item.artifact.code_sha256 == base64.b64encode(hashlib.sha256(data).digest()).decode()
    assert get_item.artifact.size == len(data)
    assert (get_item.runtime, get_item.architecture) == ("python3.11", "x86_64")
    assert (get_item.memory, get_item.timeout) == (512, 5)
    assert get_item.environment == {"STAGE": "test"}
    assert get_item.contents.distributions == {}
    assert (
        "shop.store" in get_item.contents.modules
        and "shop_models.item" in get_item.contents.modules
    )
    create = manifest.function("shop.create_item")
    assert set(create.contents.distributions) == {"markupsafe"}
    raw = json.loads((shop / "dist" / "manifest.json").read_text())
    assert raw["schema_version"] == 2


def test_bytecode_is_compiled_for_the_target_with_unchecked_hashes(
    shop: Path, build: Build
) -> None:
    build(shop)
    with zipfile.ZipFile(shop / "dist" / "shop" / "get_item.zip") as archive:
        pyc = archive.read("shop/__pycache__/store.cpython-311.pyc")
        infos = archive.infolist()
    flags = int.from_bytes(pyc[4:8], "little")
    assert flags == 0b01, "hash-based and unchecked: valid after zipping, never recompiled"
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)


def test_a_second_run_rebuilds_and_rewrites_nothing(shop: Path, build: Build) -> None:
    build(shop)
    before = dist_state(shop)
    again = build(shop)
    assert set(statuses(again).values()) == {"unchanged"}
    assert dist_state(shop) == before  # the manifest too: its bytes did not change


def test_a_no_op_parses_no_handler_and_an_edit_only_the_edited_one(
    shop: Path, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(shop)
    parsed: list[str] = []
    real = discovery.parse_module

    def counted(path: Path) -> ast.Module:
        parsed.append(path.name)
        return real(path)

    monkeypatch.setattr(discovery, "parse_module", counted)
    build(shop)
    assert parsed == []

    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text(handler.read_text() + "\n# edited\n")
    assert rewritten(build(shop)) == {"shop.get_item"}
    assert parsed == ["get_item.py"]


def test_a_no_op_neither_parses_nor_renders_the_manifest_nor_reads_a_zip_or_record(
    shop: Path, build: Build, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = build(shop)
    rendered: list[int] = []
    records: list[str] = []
    real_text, real_record = manifest_module.manifest_text, _artifacts.read_record
    monkeypatch.setattr(
        manifest_module, "manifest_text", lambda a: rendered.append(1) or real_text(a)
    )
    monkeypatch.setattr(
        _artifacts, "read_record", lambda c, h: records.append(h) or real_record(c, h)
    )
    monkeypatch.setattr(_publishing, "describe_zip", lambda path: pytest.fail(f"read {path}"))
    monkeypatch.setattr(_publishing, "_previous", lambda path: pytest.fail(f"parsed {path}"))

    again = build(shop)

    assert (rendered, records) == ([], [])
    assert again.manifest == first.manifest
    assert [f.archive for f in again.functions] == [f.archive for f in first.functions]


def test_the_manifest_is_rendered_again_when_it_or_the_application_changes(
    shop: Path, build: Build
) -> None:
    build(shop)
    manifest = shop / "dist/manifest.json"
    written = manifest.read_bytes()
    before = read_manifest(manifest).function("shop.get_item").artifact.inputs_hash
    manifest.write_bytes(written + b" \n")  # the same JSON, other bytes
    build(shop)
    assert manifest.read_bytes() == written

    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    original = handler.read_text()
    for text, expected in [(original + "\n# edited\n", False), (original, True)] * 2:
        handler.write_text(text)  # edited, reverted, edited again, reverted again
        build(shop)
        function = read_manifest(manifest).function("shop.get_item")
        assert (function.artifact.inputs_hash == before) is expected
        assert (manifest.read_bytes() == written) is expected


def test_editing_one_handler_rebuilds_only_that_handler(shop: Path, build: Build) -> None:
    build(shop)
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text(handler.read_text() + "\n# edited\n")
    assert rewritten(build(shop)) == {"shop.get_item"}


def test_editing_a_shared_model_rebuilds_exactly_its_importers(shop: Path, build: Build) -> None:
    build(shop)
    model = shop / "packages/shop-models/src/shop_models/item.py"
    model.write_text(model.read_text() + "\n# the model changed\n")
    assert rewritten(build(shop)) == {"shop.get_item"}


def test_reverting_an_edit_takes_the_zip_from_the_cache(shop: Path, build: Build) -> None:
    first = build(shop)
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    original = handler.read_text()
    handler.write_text(original + "\n# edited\n")
    build(shop)
    handler.write_text(original)
    result = build(shop)
    assert statuses(result)["shop.get_item"] == "cached"
    sha = {f.name: f.archive.sha256 for f in first.functions}
    assert {f.name: f.archive.sha256 for f in result.functions} == sha


def test_two_checkouts_in_different_folders_give_identical_zips(
    shop_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, build: Build
) -> None:
    digests = []
    for where in ("a/deeply/nested/checkout", "b"):
        root = tmp_path / where / "shop"
        shutil.copytree(shop_template, root)
        monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / where / "cache"))
        result = build(root)
        digests.append({f.name: f.archive.sha256 for f in result.functions})
    assert digests[0] == digests[1]


def test_an_arm64_target_gets_aarch64_wheels(shop: Path, build: Build) -> None:
    pyproject = shop / "services/shop/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"x86_64"', '"arm64"'))
    build(shop)
    names = names_in(shop / "dist" / "shop" / "create_item.zip")
    binaries = [n for n in names if n.startswith("markupsafe/") and n.endswith(".so")]
    assert binaries and all("aarch64" in n for n in binaries), binaries
    manifest = read_manifest(shop / "dist" / "manifest.json")
    assert manifest.function("shop.create_item").architecture == "arm64"


def test_plan_is_data_tests_can_read(shop: Path) -> None:
    plan = plan_package(shop)
    get_item = plan.function("shop.get_item")
    assert get_item.status in {"build", "cached"}  # the artifact cache is shared by tests
    assert [f.arcname for f in get_item.first_party][:3] == [
        "shop/__init__.py",
        "shop/handlers/__init__.py",
        "shop/handlers/get_item.py",
    ]
    assert get_item.target.uv_platform == "x86_64-manylinux2014"
    assert not (shop / "dist").exists(), "planning writes nothing to dist/"


def test_one_artifact_for_the_whole_service_routes_lazily(shop: Path, build: Build) -> None:
    pyproject = shop / "services/shop/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("timeout = 5", 'timeout = 5\nbundle = "service"')
    )
    build(shop)
    manifest = read_manifest(shop / "dist" / "manifest.json")
    assert [f.name for f in manifest.functions] == ["shop.api"]
    api = manifest.function("shop.api")
    assert api.handler == "lambdapress_entry.handler"
    assert sorted(r.route_key for r in api.routes) == ["GET /items/{item_id}", "POST /items"]
    names = names_in(shop / api.artifact.path)
    assert {
        "lambdapress_entry.py",
        "shop/handlers/get_item.py",
        "shop/handlers/create_item.py",
    } <= names


def test_selecting_services_and_functions(shop: Path, build: Build) -> None:
    result = plan_package(shop, PackageOptions(function="shop.get_item"))
    assert [f.name for f in result.functions] == ["shop.get_item"]
    with pytest.raises(BundleError, match=r"no function named 'shop\.nope'"):
        plan_package(shop, PackageOptions(function="shop.nope"))
    with pytest.raises(BundleError, match="unknown service"):
        plan_package(shop, PackageOptions(services=("billing",)))


def test_modules_imported_by_name_ship_when_declared_in_include(shop: Path, build: Build) -> None:
    plugins = shop / "services/shop/src/shop/plugins.py"
    plugins.write_text("LOADED = True\n")
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text(
        handler.read_text().replace(
            "from shop.store import ITEMS\n",
            "import importlib\n\nfrom shop.store import ITEMS\n\n"
            'importlib.import_module("shop.plugins")\n',
        )
    )
    build(shop)
    assert "shop/plugins.py" not in names_in(shop / "dist/shop/get_item.zip")
    pyproject = shop / "services/shop/pyproject.toml"
    pyproject.write_text(
        pyproject.read_text().replace("timeout = 5", 'timeout = 5\ninclude = ["shop.plugins"]')
    )
    build(shop)
    assert "shop/plugins.py" in names_in(shop / "dist/shop/get_item.zip")


@pytest.mark.e2e
def test_the_aws_sdk_comes_from_the_runtime_unless_bundled(shop: Path, build: Build) -> None:
    pyproject = shop / "services/shop/pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace('"markupsafe"]', '"markupsafe", "boto3"]'))
    subprocess.run(["uv", "lock", "--quiet"], cwd=shop, check=True)
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text("import boto3\n" + handler.read_text())
    build(shop)
    shipped = names_in(shop / "dist/shop/get_item.zip")
    assert not any(n.startswith(("boto3/", "botocore/", "s3transfer/")) for n in shipped)
    pyproject.write_text(
        pyproject.read_text().replace("timeout = 5", 'timeout = 5\naws_sdk = "bundle"')
    )
    build(shop)
    shipped = names_in(shop / "dist/shop/get_item.zip")
    assert any(n.startswith("boto3/") for n in shipped)
    assert any(n.startswith("botocore/") for n in shipped)
    manifest = read_manifest(shop / "dist" / "manifest.json")
    assert {"boto3", "botocore"} <= set(manifest.function("shop.get_item").contents.distributions)


def test_lambdas_size_limits_name_the_largest_distributions(shop: Path) -> None:
    plan = plan_package(shop)
    create_item = plan.function("shop.create_item")
    unzipped = Archive(
        sha256="0" * 64, code_sha256="", size=1, unzipped_size=300 * 1024 * 1024, files=1
    )
    with pytest.raises(BundleError, match="too large for Lambda") as caught:
        check_limits(create_item, unzipped)
    assert "300.0 MB unzipped (limit 250" in str(caught.value)
    assert "markupsafe" in str(caught.value)
    check_limits(
        create_item, Archive(sha256="0" * 64, code_sha256="", size=1, unzipped_size=1, files=1)
    )


def test_the_direct_upload_zipped_limit_does_not_apply_to_zips_deployed_from_s3(
    shop: Path,
) -> None:
    """Lambda's 50 MB zipped limit is for direct uploads; deploy and sync use S3 keys."""
    create_item = plan_package(shop).function("shop.create_item")
    zipped = Archive(
        sha256="0" * 64, code_sha256="", size=51 * 1024 * 1024, unzipped_size=200 * 1024**2, files=1
    )
    check_limits(create_item, zipped)
    at_the_limit = Archive(
        sha256="0" * 64, code_sha256="", size=1, unzipped_size=250 * 1024 * 1024, files=1
    )
    check_limits(create_item, at_the_limit)


def test_one_function_is_planned_without_analysing_the_other_services(shop: Path) -> None:
    other = shop / "services/legacy"
    (other / "src/legacy/handlers").mkdir(parents=True)
    (other / "src/legacy/__init__.py").write_text("")
    (other / "src/legacy/handlers/__init__.py").write_text("")
    (other / "src/legacy/handlers/report.py").write_text(
        "import docopt\n\n\ndef handler(e, c): ...\n"
    )
    (other / "pyproject.toml").write_text(
        '[project]\nname = "legacy"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n'
        'dependencies = ["docopt==0.6.2"]\n'
        '[tool.poetry]\npackages = [{ include = "legacy", from = "src" }]\n'
        '[build-system]\nrequires = ["poetry-core>=2.0"]\n'
        'build-backend = "poetry.core.masonry.api"\n'
    )
    subprocess.run(["uv", "lock", "--quiet"], cwd=shop, check=True)
    with pytest.raises(BundleError, match="docopt"):
        plan_package(shop)  # the whole workspace: legacy has no wheel to ship
    plan = plan_package(shop, PackageOptions(function="shop.get_item"))
    assert [f.name for f in plan.functions] == ["shop.get_item"]


@pytest.mark.parametrize(
    ("archive", "shipped"),
    [(["x", 1, 2], {"dist/x.zip": ["not hex", 1, "h"]}), ({"size": 1}, ["not", "a", "map"])],
)
def test_remembered_zips_and_artifacts_that_do_not_fit_are_read_again(
    shop: Path, build: Build, archive: object, shipped: object
) -> None:
    """The planning cache is sealed, yet what it holds is data: checked as it is read."""
    first = build(shop)
    stored = facts_path(Path(os.environ["LAMBDAPRESS_CACHE"]))
    body = unsealed(stored.read_bytes())
    for slot, value in body["derived"].items():
        if slot.startswith("archive:"):
            value[1] = archive
        elif slot.startswith("shipped:"):
            value[1] = shipped
    stored.write_bytes(seal(body))

    again = build(shop)

    assert set(statuses(again).values()) == {"unchanged"}
    assert [f.archive for f in again.functions] == [f.archive for f in first.functions]
