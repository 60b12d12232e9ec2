"""`lambdapress package` run several times at once, and killed at random points.

Real processes on a copy of the shop workspace, each with a cache of its own, so the wheels are
installed (cold) by the runs under test: what matters is what dist/, the cache and the temp
folder hold afterwards, compared byte for byte with a plain serial build.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lambdapress.bundle.wheels import COMPLETE_MARK, LAYOUT_VERSION
from lambdapress.model.manifest import read_manifest
from lambdapress.support.files import TEMPORARY_PREFIX

pytestmark = pytest.mark.e2e


def package_command(root: Path) -> list[str]:
    return [sys.executable, "-m", "lambdapress", "package", "--root", str(root), "--jobs", "2"]


def environment(cache: Path, temp: Path) -> dict[str, str]:
    temp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "LAMBDAPRESS_CACHE": str(cache), "TMPDIR": str(temp)}


def dist_files(root: Path) -> dict[str, bytes]:
    return {
        p.relative_to(root).as_posix(): p.read_bytes()
        for p in sorted((root / "dist").rglob("*"))
        if p.is_file()
    }


def serial_build(shop_template: Path, folder: Path) -> dict[str, bytes]:
    """dist/ of one ordinary run, in a checkout at the same path as the runs under test."""
    root = folder / "shop"
    shutil.copytree(shop_template, root)
    env = environment(folder / "cache", folder / "tmp")
    result = subprocess.run(package_command(root), env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    expected = dist_files(root)
    shutil.rmtree(folder)
    return expected


def strays(root: Path, cache: Path, temp: Path) -> list[str]:
    """Anything a finished run should not have left: temporaries anywhere we write, records
    without their zip, wheel folders without their mark, files in the temp folder."""
    found = [str(p) for p in (root / "dist").rglob("*") if TEMPORARY_PREFIX in p.name]
    found += [str(p) for p in (root / "dist").rglob(".*")]  # the old `.name.zip-XXXX` kind too
    artifacts = cache / "artifacts"
    for path in artifacts.iterdir() if artifacts.is_dir() else ():
        partner = path.with_suffix(".json" if path.suffix == ".zip" else ".zip")
        if path.suffix not in (".zip", ".json") or not partner.is_file():
            found.append(str(path))
    for target in (cache / "wheels" / f"v{LAYOUT_VERSION}").glob("*"):
        found += [str(p) for p in target.iterdir() if not (p / COMPLETE_MARK).is_file()]
    found += [str(p) for p in temp.iterdir()]
    return found


def test_four_runs_at_once_on_a_cold_cache_all_succeed_and_agree_with_a_serial_build(
    shop_template: Path, tmp_path: Path
) -> None:
    expected = serial_build(shop_template, tmp_path / "run")
    root = tmp_path / "run" / "shop"
    shutil.copytree(shop_template, root)
    cache, temp = tmp_path / "run" / "cache", tmp_path / "run" / "tmp"
    env = environment(cache, temp)
    runs = [
        subprocess.Popen(
            package_command(root), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for _ in range(4)
    ]
    errors = [run.communicate(timeout=300)[1].decode() for run in runs]
    assert [run.returncode for run in runs] == [0, 0, 0, 0], errors
    assert all("Traceback" not in error for error in errors)
    assert dist_files(root) == expected
    assert strays(root, cache, temp) == []


def kill_at(root: Path, env: dict[str, str], delay: float) -> None:
    """SIGKILL `lambdapress package` (only it, as the OOM killer would) after `delay` seconds,
    then wait until the children it started (uv, compileall) have finished on their own."""
    run = subprocess.Popen(
        package_command(root),
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        run.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        run.kill()
        run.wait()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            os.killpg(run.pid, 0)  # anything of its process group still running?
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError("the killed run's children did not finish")


def test_a_run_killed_at_any_point_is_repaired_by_the_next_and_leaves_nothing_behind(
    shop_template: Path, tmp_path: Path
) -> None:
    expected = serial_build(shop_template, tmp_path / "run")
    root = tmp_path / "run" / "shop"
    shutil.copytree(shop_template, root)
    cache, temp = tmp_path / "run" / "cache", tmp_path / "run" / "tmp"
    env = environment(cache, temp)
    handler = root / "services/shop/src/shop/handlers/get_item.py"
    original = handler.read_text()
    chance = random.Random(9)  # noqa: S311 - the same kills on every run of the test
    for attempt in range(10):
        if attempt in (3, 6, 9):  # nothing built yet: the kill may land in a build
            shutil.rmtree(cache / "artifacts", ignore_errors=True)
        if attempt == 5:  # a cold cache again: the kill may land in a wheel install
            shutil.rmtree(cache, ignore_errors=True)
        handler.write_text(original + f"\n# edit {attempt}\n")  # something to rebuild
        kill_at(root, env, chance.uniform(0.3, 2.0))
        manifest = root / "dist" / "manifest.json"
        if manifest.is_file():
            read_manifest(manifest)  # never half-written, whatever the moment of the kill
        handler.write_text(original)
        rerun = subprocess.run(package_command(root), env=env, capture_output=True, text=True)
        assert rerun.returncode == 0, (attempt, rerun.stderr)
        assert "Traceback" not in rerun.stderr
        assert dist_files(root) == expected, attempt
        assert strays(root, cache, temp) == [], attempt


INTERRUPTIBLE = (
    "import signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "  # not the
    "from lambdapress.cli import main; sys.exit(main(sys.argv[1:]))"  # inherited disposition
)


def test_ctrl_c_during_a_build_leaves_nothing_behind(shop_template: Path, tmp_path: Path) -> None:
    root = tmp_path / "shop"
    shutil.copytree(shop_template, root)
    cache, temp = tmp_path / "cache", tmp_path / "tmp"
    env = environment(cache, temp)
    warm = subprocess.run(package_command(root), env=env, capture_output=True, text=True)
    assert warm.returncode == 0, warm.stderr  # the wheels are installed
    shutil.rmtree(cache / "artifacts")
    shutil.rmtree(root / "dist")
    command = [sys.executable, "-c", INTERRUPTIBLE, *package_command(root)[3:]]
    run = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    while not any((cache / "artifacts").glob(f"{TEMPORARY_PREFIX}*")):  # a build has begun
        assert run.poll() is None and time.monotonic() < deadline, "no build was seen"
        time.sleep(0.002)
    run.send_signal(signal.SIGINT)
    _, err = run.communicate(timeout=120)

    assert run.returncode != 0, err
    assert strays(root, cache, temp) == []
