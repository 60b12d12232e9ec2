"""dist/ and the cache after a run: the umask's modes, nothing left behind by killed runs."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lambdapress.bundle import _artifacts, _entries, package
from lambdapress.bundle import _compiled as compiled_module
from lambdapress.bundle.bytecode import compile_tree as real_compile_tree
from lambdapress.bundle.wheels import BYTECODE_ONLY, LAYOUT_VERSION
from lambdapress.support import files


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o027, 0o640)])
def test_dist_zips_and_manifest_get_the_umasks_mode(
    shop: Path, wheel_cache: Path, tmp_path: Path, umask: int, mode: int
) -> None:
    """The manifest as `open()` would create it; zips (links to read-only cached zips) the
    same read bits, no write bits: editing a dist/ zip in place must not reach the cache."""
    command = [sys.executable, "-m", "lambdapress", "package", "--root", str(shop)]
    env = {**os.environ, "LAMBDAPRESS_CACHE": str(wheel_cache)}
    result = subprocess.run(
        ["sh", "-c", f'umask {umask:03o} && exec "$@"', "sh", *command],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    zips = sorted((shop / "dist").glob("*/*.zip"))
    assert len(zips) == 2
    assert stat.S_IMODE((shop / "dist" / "manifest.json").stat().st_mode) == mode
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in zips} == {
        p.name: mode & ~0o222 for p in zips
    }
    cached = {p.stat().st_ino for p in (wheel_cache / "artifacts").glob("*.zip")}
    if umask == 0o022:  # built by this run: linked, not copied (the next run copies: 0440)
        assert all(p.stat().st_ino in cached for p in zips)


def leave_temporaries(*folders: Path) -> list[Path]:
    """What a killed run leaves: a half-written file and a scratch folder in each place."""
    left = []
    for folder in folders:
        left.append(files.temporary_path(folder / "half.zip"))
        left.append(files.temporary_path(folder / "scratch", folder=True))
        (left[-1] / "task.py").write_text("x = 1\n")
    return left


def test_the_next_run_sweeps_what_a_killed_run_left(shop: Path, wheel_cache: Path) -> None:
    first = package(shop, jobs=2)
    # The target's installed folders, and their bytecode-only variants next to them (another
    # test of the session may have added the variant without docstrings).
    targets = sorted((wheel_cache / "wheels" / f"v{LAYOUT_VERSION}").glob("*"))
    assert {t.name.removeprefix("cp311-x86_64") for t in targets} >= {"", BYTECODE_ONLY}
    dist = shop / "dist"
    left = leave_temporaries(dist, dist / "shop", _artifacts.folder(wheel_cache), *targets)
    orphan = _artifacts.record_path(wheel_cache, "0" * 64)  # killed between record and zip
    orphan.write_text("{}")
    legacy = [dist / "shop" / ".get_item.zip-k2j4x9ab", dist / ".manifest-q0_3ab8z.json"]
    for path in legacy:  # what older lambdapress versions left when killed
        path.write_bytes(b"")

    again = package(shop, jobs=2)

    assert [p for p in [*left, *legacy] if p.exists()] == []
    assert not orphan.exists()
    assert again.manifest == first.manifest


def test_a_concurrent_runs_work_in_progress_is_spared(shop: Path, wheel_cache: Path) -> None:
    package(shop, jobs=2)
    dist = shop / "dist"
    (work,) = leave_temporaries(_artifacts.folder(wheel_cache))[:1]
    (published,) = leave_temporaries(dist / "shop")[:1]
    stale = files.temporary_path(dist / "shop" / "old.zip")
    past = time.time() - 2 * files.STALE_AFTER
    os.utime(stale, (past, past))

    def nothing(_older_than: float) -> None:
        return None

    # Another run is going on: it holds both folders.
    with files.claim(wheel_cache, nothing), files.claim(dist, nothing):
        package(shop, jobs=2)

    assert work.exists() and published.exists()  # may be renamed into place any moment
    assert not stale.exists()  # far too old to belong to a live run


def test_builds_are_staged_in_the_cache_not_the_temp_folder(
    shop: Path, wheel_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed build's scratch folder must be somewhere the next run sweeps."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setenv("TMPDIR", str(temp))
    monkeypatch.setattr("tempfile.tempdir", None)  # read TMPDIR again
    handler = shop / "services/shop/src/shop/handlers/get_item.py"
    handler.write_text(handler.read_text() + "\n# something to build\n")
    compiled: list[Path] = []

    def compile_tree(folder: Path, compiler: str) -> None:
        compiled.append(folder)
        real_compile_tree(folder, compiler)

    monkeypatch.setattr(compiled_module, "compile_tree", compile_tree)
    package(shop, jobs=1)

    assert compiled, "the fixture builds with bytecode"
    swept = {_artifacts.folder(wheel_cache), _entries.folder(wheel_cache) / "derived"}
    assert all(folder.parent in swept for folder in compiled)
    assert all(not folder.exists() for folder in compiled)
    assert list(temp.iterdir()) == []


def test_two_runs_putting_the_same_zip_in_the_cache_at_once_both_succeed(
    shop: Path, tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The moment two concurrent runs rename the same cached zip into place is forced: each
    must have a temporary of its own (a fixed `<hash>.tmp` lost one run's file)."""
    cache = tmp_path / "cache"  # no built zips yet, the session's wheels
    cache.mkdir()
    (wheel_cache / "wheels").mkdir(exist_ok=True)
    (cache / "wheels").symlink_to(wheel_cache / "wheels", target_is_directory=True)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(cache))
    meet = threading.Barrier(2, timeout=60)
    real_replace = Path.replace

    def replace(self: Path, target: str | os.PathLike[str]) -> Path:
        destination = Path(target)
        if destination.parent.name == "artifacts" and destination.suffix == ".zip":
            meet.wait()  # both runs have written their zip: now both rename
        return real_replace(self, target)

    monkeypatch.setattr(Path, "replace", replace)
    outcomes: list[BaseException | None] = [None, None]

    def run(index: int) -> None:
        try:
            package(shop, jobs=1)
        except BaseException as error:  # reported below, with the other run's outcome
            outcomes[index] = error
            meet.abort()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes == [None, None]
    assert (
        sorted(p.suffix for p in _artifacts.folder(cache).iterdir()) == [".json"] * 2 + [".zip"] * 2
    )
