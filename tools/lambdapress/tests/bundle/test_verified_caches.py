"""Every cache object is checked against the digest recorded when it was written.

An altered (even valid) or truncated cached zip, a zip without its record, an edited file in an
installed wheel folder, a damaged runtime-client install: each is reported as a warning, thrown
away and rebuilt, and what ships is byte for byte what a clean build gives.
"""

from __future__ import annotations

import hashlib
import sys
import zipfile
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult, _artifacts, package
from lambdapress.bundle.archive import Entry, write_zip
from lambdapress.bundle.wheels import BYTECODE_ONLY, COMPLETE_MARK, LAYOUT_VERSION
from lambdapress.cli import main
from lambdapress.emulator import _ric
from lambdapress.errors import BundleError
from lambdapress.model.manifest import read_manifest


@pytest.fixture
def own_cache(tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache of this test's own for built zips (what it damages stays here), sharing the
    session's installed wheels."""
    cache = tmp_path / "cache"
    cache.mkdir()
    (wheel_cache / "wheels").mkdir(exist_ok=True)
    (cache / "wheels").symlink_to(wheel_cache / "wheels", target_is_directory=True)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache))
    return cache


def build(root: Path) -> PackageResult:
    return package(root, jobs=2)


def shipped(root: Path) -> dict[str, bytes]:
    manifest = read_manifest(root / "dist" / "manifest.json")
    return {f.name: (root / f.artifact.path).read_bytes() for f in manifest.functions}


def cached_zip(root: Path, cache: Path, name: str) -> Path:
    entry = read_manifest(root / "dist" / "manifest.json").function(name)
    return _artifacts.zip_path(cache, entry.artifact.inputs_hash)


def test_an_altered_but_valid_cached_zip_is_thrown_away_and_rebuilt(
    shop: Path, own_cache: Path
) -> None:
    build(shop)
    clean = shipped(shop)
    cached = cached_zip(shop, own_cache, "shop.get_item")
    clean_size = cached.stat().st_size
    with zipfile.ZipFile(cached, "a") as archive:  # still a valid zip: one module more
        archive.writestr("sitecustomize.py", "print('owned')\n")
    cached_size = cached.stat().st_size
    (shop / "dist/shop/get_item.zip").unlink()  # dist/ is repaired from the cache

    result = build(shop)

    assert [w for w in result.warnings if w.startswith(f"cached artifact {cached}")] == [
        f"cached artifact {cached} is {cached_size} bytes, {clean_size} when it was written "
        "(truncated or replaced): thrown away and rebuilt"
    ]
    assert {f.name: f.status for f in result.functions}["shop.get_item"] == "build"
    assert shipped(shop) == clean
    manifest = read_manifest(shop / "dist" / "manifest.json").function("shop.get_item")
    assert manifest.artifact.sha256 == hashlib.sha256(clean["shop.get_item"]).hexdigest()
    assert (
        _artifacts.lookup(own_cache, manifest.artifact.inputs_hash).archive is not None
    )  # repaired


def test_a_cached_zip_changed_in_place_is_caught_by_its_digest(shop: Path, own_cache: Path) -> None:
    build(shop)
    clean = shipped(shop)
    cached = cached_zip(shop, own_cache, "shop.get_item")
    data = bytearray(cached.read_bytes())
    data[-30] ^= 0xFF  # same size, one byte of the central directory flipped
    cached.write_bytes(bytes(data))
    (shop / "dist/shop/get_item.zip").unlink()

    result = build(shop)

    assert (
        f"cached artifact {cached} was changed after it was written: thrown away and rebuilt"
        in result.warnings
    )
    assert shipped(shop) == clean


def test_a_truncated_cached_zip_is_a_warning_not_a_traceback(
    shop: Path, own_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    build(shop)
    clean = shipped(shop)
    cached = cached_zip(shop, own_cache, "shop.create_item")
    cached.write_bytes(cached.read_bytes()[:1000])
    (shop / "dist/shop/create_item.zip").unlink()
    capsys.readouterr()

    assert main(["package", "--root", str(shop)]) == 0

    err = capsys.readouterr().err
    assert f"warning: cached artifact {cached} is 1000 bytes" in err
    assert "Traceback" not in err and "BadZipFile" not in err
    assert shipped(shop) == clean


def test_a_cached_zip_without_its_record_is_not_trusted(shop: Path, own_cache: Path) -> None:
    build(shop)
    clean = shipped(shop)
    cached = cached_zip(shop, own_cache, "shop.get_item")
    cached.with_suffix(".json").unlink()
    (shop / "dist/shop/get_item.zip").write_bytes(b"not the zip the manifest names")

    result = build(shop)

    assert f"cached artifact {cached} has no readable digest record: thrown away and rebuilt" in (
        result.warnings
    )
    assert shipped(shop) == clean


def test_an_edited_file_in_a_wheel_folder_is_detected_and_reinstalled(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "private-cache"  # a cache of its own: this test damages wheels
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache))
    build(shop)
    clean = shipped(shop)
    # What ships: the bytecode-only folder (sources = "first-party", the default).
    (folder,) = (cache / "wheels" / f"v{LAYOUT_VERSION}").glob(f"*{BYTECODE_ONLY}/markupsafe-*")
    module = folder / "markupsafe" / "__init__.pyc"
    original = module.read_bytes()
    module.unlink()  # a new file: never write through a link into another cache
    module.write_bytes(original + b"\nEDITED = True\n")
    shutil_rmtree_artifacts(cache)
    (shop / "dist/shop/create_item.zip").unlink()  # create_item is built again: it zips it

    result = build(shop)

    assert (
        f"the cached wheel folder {folder} does not match its record (markupsafe/__init__.pyc "
        "was changed): thrown away and installed again"
    ) in result.warnings
    assert module.read_bytes() == original
    assert shipped(shop) == clean


def test_a_wheel_folder_without_its_record_is_reinstalled_with_a_warning(
    shop: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "private-cache"
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache))
    build(shop)
    (folder,) = (cache / "wheels" / f"v{LAYOUT_VERSION}").glob(f"*{BYTECODE_ONLY}/six-*")
    (folder / COMPLETE_MARK).unlink()

    result = build(shop)

    assert any(
        w.startswith(f"the cached wheel folder {folder} was damaged") for w in result.warnings
    )
    assert (folder / COMPLETE_MARK).is_file()


def test_a_wheel_file_changed_after_its_folder_was_checked_never_reaches_a_zip(
    tmp_path: Path,
) -> None:
    source = tmp_path / "six.py"
    source.write_text("ORIGINAL = True\n")
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    source.write_text("ORIGINAL = False\n")
    with pytest.raises(BundleError, match="changed while the zip was being built"):
        write_zip([Entry("six.py", source=source, sha256=digest)], tmp_path / "out.zip")


def shutil_rmtree_artifacts(cache: Path) -> None:
    for path in (cache / "artifacts").iterdir():
        path.unlink()


FAKE_CLIENT = "print('the runtime interface client')\n"


@pytest.fixture
def fake_installer(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """ric's installer replaced by one that writes a small fake awslambdaric (no index)."""
    installs: list[Path] = []

    def command(minor: str, target_platform: str, staging: Path) -> list[str]:
        installs.append(staging)
        script = (
            "import pathlib, sys; p = pathlib.Path(sys.argv[1]) / 'awslambdaric'; "
            f"p.mkdir(); (p / '__main__.py').write_text({FAKE_CLIENT!r})"
        )
        return [sys.executable, "-c", script, str(staging)]

    monkeypatch.setattr(_ric, "_install_command", command)
    monkeypatch.setattr(_ric, "_verified", set())  # as in a new process
    return installs


def test_a_damaged_runtime_client_is_detected_and_reinstalled(
    tmp_path: Path, fake_installer: list[Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _ric.install_awslambdaric("3.12", "x86_64-manylinux2014", tmp_path)
    main_module = first.path / "awslambdaric" / "__main__.py"
    assert first.note is None and main_module.read_text() == FAKE_CLIENT
    assert _ric.damage(first.path) is None
    (first.path / "awslambdaric" / "__pycache__").mkdir()  # written by imports: not damage
    (first.path / "awslambdaric" / "__pycache__" / "__main__.cpython-312.pyc").write_bytes(b"x")
    assert _ric.damage(first.path) is None

    main_module.write_text("print('tampered')\n")
    monkeypatch.setattr(_ric, "_verified", set())  # the next process
    again = _ric.install_awslambdaric("3.12", "x86_64-manylinux2014", tmp_path)

    assert len(fake_installer) == 2
    assert again.note == (
        f"the cached runtime client {first.path} does not match its record "
        "(awslambdaric/__main__.py was changed): thrown away and installed again"
    )
    assert main_module.read_text() == FAKE_CLIENT
    assert [p.name for p in (tmp_path / "runtime").iterdir()] == [first.path.name]


def test_a_runtime_client_without_a_record_is_reinstalled(
    tmp_path: Path, fake_installer: list[Path]
) -> None:
    target = tmp_path / "runtime"
    first = _ric.install_awslambdaric("3.12", "x86_64-manylinux2014", tmp_path)
    (first.path / ".lambdapress-complete").unlink()
    _ric._verified.clear()
    again = _ric.install_awslambdaric("3.12", "x86_64-manylinux2014", tmp_path)
    assert again.note is not None and "missing or unreadable" in again.note
    assert len(fake_installer) == 2 and _ric.damage(first.path) is None
    assert [p.name for p in target.iterdir()] == [first.path.name]


def test_a_dist_zip_edited_in_place_is_caught_with_the_cached_zip_it_shares(
    shop: Path, own_cache: Path
) -> None:
    """dist/ zips are hard links to read-only cached zips: an edit that gets through anyway
    (root ignores the mode) changes both, and the next run catches both by their digests."""
    build(shop)
    clean = shipped(shop)
    dist_zip = shop / "dist/shop/get_item.zip"
    cached = cached_zip(shop, own_cache, "shop.get_item")
    assert dist_zip.stat().st_ino == cached.stat().st_ino
    with dist_zip.open("r+b") as handle:  # in place, as `zip -u` would edit it
        handle.seek(-30, 2)
        handle.write(b"\xff")

    result = build(shop)

    assert (
        f"cached artifact {cached} was changed after it was written: thrown away and rebuilt"
        in result.warnings
    )
    assert {f.name: f.status for f in result.functions}["shop.get_item"] == "build"
    assert shipped(shop) == clean


def test_without_hard_links_dist_gets_verified_copies(
    shop: Path, own_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno
    import os

    def cross_device(_source: object, _destination: object) -> None:
        raise OSError(errno.EXDEV, "Invalid cross-device link")

    monkeypatch.setattr(os, "link", cross_device)
    result = build(shop)

    assert result.warnings == ()
    dist_zip = shop / "dist/shop/get_item.zip"
    assert dist_zip.stat().st_ino != cached_zip(shop, own_cache, "shop.get_item").stat().st_ino
    assert dist_zip.stat().st_mode & 0o222 == 0
    assert build(shop).functions[0].status == "unchanged"
