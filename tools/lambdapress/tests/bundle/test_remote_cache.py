"""The shared build cache against moto's S3 server: two checkouts sharing one bucket.

Each checkout is its own folder with its own local cache (wheels and zips), as on two CI
runners or a runner and a laptop; only the bucket is shared.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto.server import ThreadedMotoServer

from lambdapress.bundle import package
from lambdapress.bundle._remote_config import load_remote_cache
from lambdapress.cli import main
from lambdapress.errors import ConfigError

BUCKET = "build-cache"
URL = f"s3://{BUCKET}/team"


def s3() -> Any:
    return boto3.client("s3")


@pytest.fixture
def bucket(s3_server: ThreadedMotoServer) -> str:
    s3().create_bucket(Bucket=BUCKET)
    return BUCKET


def configure(root: Path, url: str = URL) -> None:
    pyproject = root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text() + f'\n[tool.lambdapress.cache]\nurl = "{url}"\n')


def checkout(shop_template: Path, where: Path) -> Path:
    root = where / "shop"
    shutil.copytree(shop_template, root)
    configure(root)
    return root


def zips(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "dist").glob("*/*.zip")}


def keys() -> list[str]:
    listed = s3().list_objects_v2(Bucket=BUCKET).get("Contents", [])
    return sorted(str(item["Key"]) for item in listed)


def test_a_second_checkout_builds_nothing_and_gets_identical_zips(
    shop_template: Path, tmp_path: Path, bucket: str
) -> None:
    first = checkout(shop_template, tmp_path / "runner")
    built = package(first, jobs=2, cache=tmp_path / "runner-cache")
    assert {f.status for f in built.functions} == {"build"}
    hashes = {e.artifact.inputs_hash for e in built.manifest.functions}
    assert keys() == sorted(f"team/artifacts/{h}.{s}" for h in hashes for s in ("json", "zip"))

    second = checkout(shop_template, tmp_path / "laptop")
    fetched = package(second, jobs=2, cache=tmp_path / "laptop-cache")

    assert [f.status for f in fetched.functions] == ["remote"] * len(built.functions)
    assert fetched.warnings == ()
    assert zips(second) == zips(first)
    manifest = "dist/manifest.json"
    assert (second / manifest).read_bytes() == (first / manifest).read_bytes()
    # The fetched zips are in the laptop's local cache now: the next run needs no bucket.
    (second / "dist").joinpath("shop", "get_item.zip").unlink()
    again = package(second, jobs=2, cache=tmp_path / "laptop-cache")
    assert {f.name: f.status for f in again.functions}["shop.get_item"] == "cached"


def test_an_altered_zip_in_the_bucket_is_rebuilt_and_overwritten(
    shop_template: Path, tmp_path: Path, bucket: str
) -> None:
    first = checkout(shop_template, tmp_path / "runner")
    built = package(first, jobs=2, cache=tmp_path / "runner-cache")
    entry = next(e for e in built.manifest.functions if e.name == "shop.get_item")
    key = f"team/artifacts/{entry.artifact.inputs_hash}.zip"
    good = (first / entry.artifact.path).read_bytes()
    s3().put_object(Bucket=BUCKET, Key=key, Body=good[:-1] + b"!")  # record left as it was

    second = checkout(shop_template, tmp_path / "laptop")
    result = package(second, jobs=2, cache=tmp_path / "laptop-cache")

    statuses = {f.name: f.status for f in result.functions}
    assert statuses.pop("shop.get_item") == "build"
    assert set(statuses.values()) == {"remote"}
    assert [w for w in result.warnings if key in w and "does not match its record" in w]
    assert (second / entry.artifact.path).read_bytes() == good
    assert s3().get_object(Bucket=BUCKET, Key=key)["Body"].read() == good  # overwritten


def test_a_stopped_server_means_a_warning_and_a_local_build(
    shop_template: Path,
    tmp_path: Path,
    bucket: str,
    s3_server: ThreadedMotoServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = checkout(shop_template, tmp_path)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    s3_server.stop()

    assert main(["package", "--jobs", "2", "--root", str(root)]) == 0

    output = capsys.readouterr()
    text = output.out + output.err
    assert f"shared build cache unavailable: cannot reach {URL}" in text
    assert text.count("shared build cache unavailable") == 1  # once, not once per function
    assert "rebuilt" in text
    assert json.loads((root / "dist" / "manifest.json").read_text())["functions"]


def test_a_record_without_its_zip_or_an_unreadable_one_is_a_miss(
    shop_template: Path, tmp_path: Path, bucket: str
) -> None:
    first = checkout(shop_template, tmp_path / "runner")
    built = {e.name: e for e in package(first, jobs=2, cache=tmp_path / "a").manifest.functions}
    get_item, create_item = built["shop.get_item"], built["shop.create_item"]
    s3().delete_object(Bucket=BUCKET, Key=f"team/artifacts/{get_item.artifact.inputs_hash}.zip")
    unreadable = f"team/artifacts/{create_item.artifact.inputs_hash}.json"
    s3().put_object(Bucket=BUCKET, Key=unreadable, Body=b"{not json")

    second = checkout(shop_template, tmp_path / "laptop")
    result = package(second, jobs=2, cache=tmp_path / "b")

    assert {f.name: f.status for f in result.functions} == {
        "shop.create_item": "build",
        "shop.get_item": "build",
    }
    assert [w for w in result.warnings if f"{unreadable} is not a valid record" in w]
    assert zips(second) == zips(first)
    again = package(checkout(shop_template, tmp_path / "third"), jobs=2, cache=tmp_path / "c")
    assert {f.status for f in again.functions} == {"remote"}  # both uploaded again, whole


@pytest.mark.parametrize(
    ("problem", "said", "fix"),
    [
        ("no bucket", f"{URL} refused the request (NoSuchBucket)", "create the bucket"),
        ("no credentials", f"no AWS credentials to reach {URL}", "configure AWS credentials"),
    ],
)
def test_an_unusable_store_is_named_with_its_fix_and_the_build_goes_on(
    problem: str,
    said: str,
    fix: str,
    shop_template: Path,
    tmp_path: Path,
    s3_server: ThreadedMotoServer,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = checkout(shop_template, tmp_path)  # the bucket is never created
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "never-printed-secret")
    if problem == "no credentials":
        for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
            monkeypatch.delenv(name)
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-credentials"))
        monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-config"))

    assert main(["package", "--jobs", "2", "--root", str(root)]) == 0

    output = capsys.readouterr()
    text = output.out + output.err
    assert said in text
    assert fix in text
    assert "never-printed-secret" not in text
    assert (root / "dist" / "manifest.json").is_file()


def test_a_server_lost_between_lookups_and_uploads_still_builds(
    shop_template: Path, tmp_path: Path, bucket: str, s3_server: ThreadedMotoServer
) -> None:
    from lambdapress.bundle import PackageOptions, execute_plan, plan_package

    root = checkout(shop_template, tmp_path)
    plan = plan_package(root, PackageOptions(jobs=2, cache=tmp_path / "cache"))
    assert {f.status for f in plan.functions} == {"build"}  # looked up: not there
    s3_server.stop()

    result = execute_plan(plan, jobs=2)

    assert {f.status for f in result.functions} == {"build"}
    assert [w for w in result.warnings if "shared build cache unavailable" in w]
    assert (root / "dist" / "manifest.json").is_file()


def test_no_remote_cache_neither_fetches_nor_uploads(
    shop_template: Path, tmp_path: Path, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = checkout(shop_template, tmp_path)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(tmp_path / "cache"))

    assert main(["package", "--jobs", "2", "--no-remote-cache", "--root", str(root)]) == 0

    assert keys() == []


def test_a_url_that_is_not_s3_is_a_config_error(
    shop: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    configure(shop, "https://build-cache.example.com/team")

    assert main(["package", "--root", str(shop)]) == 1

    error = capsys.readouterr().err
    assert f"{shop / 'pyproject.toml'}:" in error
    assert "`tool.lambdapress.cache.url`: not an s3:// URL" in error
    assert "fix: use s3://" in error
    assert not (shop / "dist").exists()


def test_the_variable_wins_over_the_pyproject(shop: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    configure(shop, "s3://from-the-file/prefix")

    monkeypatch.setenv("LAMBDAPRESS_CACHE_URL", "s3://from-ci/a/b/")
    remote = load_remote_cache(shop)
    assert remote is not None
    assert (remote.bucket, remote.key("x.zip"), remote.origin) == (
        "from-ci",
        "a/b/artifacts/x.zip",
        "LAMBDAPRESS_CACHE_URL",
    )

    monkeypatch.setenv("LAMBDAPRESS_CACHE_URL", "")
    assert load_remote_cache(shop) is None

    monkeypatch.setenv("LAMBDAPRESS_CACHE_URL", "bucket/prefix")
    with pytest.raises(ConfigError, match="LAMBDAPRESS_CACHE_URL"):
        load_remote_cache(shop)

    monkeypatch.delenv("LAMBDAPRESS_CACHE_URL")
    remote = load_remote_cache(shop)
    assert remote is not None
    assert (remote.url, remote.origin) == (
        "s3://from-the-file/prefix",
        str(shop / "pyproject.toml"),
    )


NO_BOTO3 = """
import sys
from pathlib import Path
from lambdapress.bundle import package

result = package(Path(sys.argv[1]), jobs=2)
assert result.functions
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("boto3", "botocore"))
print(" ".join(loaded) or "none")
"""


def test_a_build_without_a_shared_cache_never_imports_boto3(shop: Path) -> None:
    environment = {k: v for k, v in os.environ.items() if k != "LAMBDAPRESS_CACHE_URL"}

    result = subprocess.run(
        [sys.executable, "-c", NO_BOTO3, str(shop)],
        capture_output=True,
        text=True,
        check=False,
        env=environment,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "none"
