"""The user-level cache of prepared wheels: shared by every project, verified, safe to prune.

A clean project build (an empty project cache) takes every wheel another project prepared for
the same target from the user-level cache: nothing installed, nothing compiled, the same zip
bytes. Each test has a user-level cache of its own (`LAMBDAPRESS_CACHE_DIR`) and each project a
cache of its own (`LAMBDAPRESS_CACHE`).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from lambdapress.bundle import PackageResult, package
from lambdapress.bundle.lock import LockedPackage, WheelFile, read_lock
from lambdapress.bundle.pipeline import Progress
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheel_cache import (
    ENVIRONMENT,
    PreparedKey,
    PreparedRecord,
    WheelCache,
    cache_info,
    locate,
    prepared_key,
    prune_cache,
    selected_wheel,
)
from lambdapress.bundle.wheels import (
    BYTECODE_ONLY,
    LAYOUT_VERSION,
    Installer,
    WheelRecord,
    ensure_installed,
)
from lambdapress.cli import main
from lambdapress.model.manifest import read_manifest
from lambdapress.support import files
from lambdapress.support.integrity import COMPLETE_MARK, read_mark

TARGET = Target(python="3.11", architecture="x86_64")
DAY = 24 * 3600.0


@pytest.fixture
def user_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty user-level cache for this test alone."""
    folder = tmp_path / "user-cache"
    monkeypatch.setenv(ENVIRONMENT, str(folder))
    return folder


def project(shop_template: Path, where: Path) -> Path:
    """A copy of the shop workspace in `where`, never built."""
    root = where / "shop"
    shutil.copytree(shop_template, root)
    return root


def build(root: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[PackageResult, list[str]]:
    """`package` with the project's own (empty) cache; the wheels it installed."""
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(root.parent / "project-cache"))
    installs: list[str] = []

    def progress(event: Progress) -> None:
        if event.kind == "install":
            installs.append(event.name.split()[0])

    return package(root, jobs=2, progress=progress), installs


def shipped(root: Path) -> dict[str, bytes]:
    manifest = read_manifest(root / "dist" / "manifest.json")
    return {f.name: (root / f.artifact.path).read_bytes() for f in manifest.functions}


def entries(folder: Path) -> list[Path]:
    return sorted(p for p in (folder / "wheels" / "v1").iterdir() if p.is_dir())


def entry_of(folder: Path, name: str, variant: str) -> Path:
    """The one entry of distribution `name` in `variant`."""
    (found,) = (
        e
        for e in entries(folder)
        if (record := read_mark(e, PreparedRecord)) is not None
        and (record.key.name, record.key.variant) == (name, variant)
    )
    return found


def test_a_second_project_installs_and_compiles_nothing_the_first_prepared(
    shop_template: Path, tmp_path: Path, user_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = project(shop_template, tmp_path / "a")
    second = project(shop_template, tmp_path / "b")

    _, cold = build(first, monkeypatch)
    _, warm = build(second, monkeypatch)

    assert sorted(cold) == ["markupsafe", "six"]
    assert warm == []
    # The same bytes, whether the wheels were prepared for this build or taken.
    assert shipped(second) == shipped(first)
    # Each project's folder is the entry's files (hard links), not a copy or a new install.
    entry = entry_of(user_cache, "six", "bytecode")
    (linked,) = (tmp_path / "b" / "project-cache" / "wheels").glob(
        f"v{LAYOUT_VERSION}/cp311-x86_64{BYTECODE_ONLY}/six-*"
    )
    assert (linked / "six.pyc").stat().st_ino == (entry / "six.pyc").stat().st_ino


def test_compiler_and_variants_each_have_an_entry(
    shop_template: Path, tmp_path: Path, user_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    build(project(shop_template, tmp_path / "a"), monkeypatch)

    keys = [read_mark(e, PreparedRecord) for e in entries(user_cache)]
    assert sorted((r.key.name, r.key.variant) for r in keys if r is not None) == [
        ("markupsafe", "bytecode"),
        ("markupsafe", "installed"),
        ("six", "bytecode"),
        ("six", "installed"),
    ]
    info = cache_info()  # sorted; the bytecode-only variants link the installed ones' files
    assert [(e.key.name, e.key.variant) for e in info.entries if e.key is not None] == sorted(
        (r.key.name, r.key.variant) for r in keys if r is not None
    )
    assert 0 < info.disk_size < info.size


def locked(root: Path, name: str) -> LockedPackage:
    return read_lock(root).find(name)


def test_a_user_cache_that_cannot_be_written_is_no_error(
    shop_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reference = project(shop_template, tmp_path / "reference")
    monkeypatch.setenv(ENVIRONMENT, str(tmp_path / "user-cache"))
    build(reference, monkeypatch)
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv(ENVIRONMENT, str(blocked / "cache"))  # mkdir fails, even as root

    root = project(shop_template, tmp_path / "a")
    result, installs = build(root, monkeypatch)

    assert sorted(installs) == ["markupsafe", "six"]  # into the project's cache, as before
    assert shipped(root) == shipped(reference)
    assert not any("user-level" in w for w in result.warnings)


def test_a_different_target_misses_and_the_same_target_hits(
    shop_template: Path, tmp_path: Path, user_cache: Path
) -> None:
    six = locked(shop_template, "six")  # one pure wheel for every target
    installs: list[tuple[str, str]] = []

    def install(target: Target, project_cache: str) -> None:
        installer = Installer(
            tmp_path / project_cache,
            jobs=1,
            on_install=lambda p: installs.append((p.name, target.key)),
        )
        ensure_installed([six], target, installer)

    install(TARGET, "one")
    install(TARGET, "two")  # another project, the same target
    install(Target(python="3.11", architecture="arm64"), "three")
    install(Target(python="3.12", architecture="x86_64"), "four")

    assert installs == [("six", "cp311-x86_64"), ("six", "cp311-arm64"), ("six", "cp312-x86_64")]


def test_the_key_names_the_wheel_uv_installs_and_everything_that_changes_its_bytes(
    shop_template: Path,
) -> None:
    six = locked(shop_template, "six")
    compiled = prepared_key(six, TARGET, "installed", "/usr/bin/python3.11", LAYOUT_VERSION)
    assert compiled is not None
    assert compiled.wheel == six.wheels[0].hash
    others = [
        prepared_key(six, TARGET, "installed", None, LAYOUT_VERSION),  # no interpreter: no bytecode
        prepared_key(six, TARGET, "bytecode", "python3.11", LAYOUT_VERSION, derived=2),
        prepared_key(six, TARGET, "bytecode-nodocstrings", "python3.11", LAYOUT_VERSION, 2),
        # A bytecode-only folder derived another way (its METADATA as installed, before 2).
        prepared_key(six, TARGET, "bytecode", "python3.11", LAYOUT_VERSION, derived=1),
        prepared_key(
            six, Target(python="3.12", architecture="x86_64"), "installed", "py", LAYOUT_VERSION
        ),
        prepared_key(
            six, Target(python="3.11", architecture="arm64"), "installed", "py", LAYOUT_VERSION
        ),
        compiled.model_copy(update={"layout": LAYOUT_VERSION + 1}),
        compiled.model_copy(update={"wheel": "sha256:" + "0" * 64}),
    ]
    digests = {k.digest for k in others if k is not None}
    assert len(digests) == len(others) and compiled.digest not in digests
    # An installed folder's key is written as before bytecode-only folders had a layout of
    # their own, so its entry keeps its name: only what is derived from it is prepared again.
    derived = prepared_key(six, TARGET, "installed", "/usr/bin/python3.11", LAYOUT_VERSION, 2)
    assert derived == compiled
    assert set(json.loads(compiled.model_dump_json())) == {
        "name",
        "version",
        "wheel",
        "python",
        "platform",
        "variant",
        "bytecode",
        "layout",
    }
    # Not kept in the user-level cache: what the lock does not name by hash.
    pinned = six.model_copy(update={"source_kind": "pinned", "wheels": ()})
    assert prepared_key(pinned, TARGET, "installed", "py", LAYOUT_VERSION) is None


def wheel(filename: str) -> WheelFile:
    return WheelFile(url=f"https://files.example/{filename}", hash=f"sha256:{filename}")


def test_the_selected_wheel_is_the_one_uv_prefers_for_the_target() -> None:
    candidates = [
        "cryptography-50.0.2-cp311-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
        "cryptography-50.0.2-cp311-abi3-manylinux_2_28_x86_64.whl",
        "cryptography-50.0.2-cp311-abi3-manylinux_2_34_x86_64.whl",
        "cryptography-50.0.2-cp311-abi3-musllinux_1_2_x86_64.whl",
        "cryptography-50.0.2-cp39-abi3-manylinux_2_34_x86_64.whl",
        "cryptography-50.0.2-cp311-abi3-manylinux_2_34_aarch64.whl",
    ]
    package = LockedPackage(
        name="cryptography",
        version="50.0.2",
        source_kind="registry",
        source="https://pypi.org/simple",
        wheels=tuple(wheel(name) for name in candidates),
    )

    def chosen(python: str, architecture: str) -> str | None:
        target = Target.model_validate({"python": python, "architecture": architecture})
        found = selected_wheel(package, target)
        return found.filename if found is not None else None

    # python3.12 runs on glibc 2.34 (uv installed this one when asked: see the module's notes).
    assert chosen("3.12", "x86_64") == candidates[2]
    assert chosen("3.12", "arm64") == candidates[5]
    assert chosen("3.11", "x86_64") == candidates[0]  # glibc 2.26: manylinux2014 only


def test_a_damaged_entry_is_reported_once_thrown_away_and_prepared_again(
    shop_template: Path, tmp_path: Path, user_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = project(shop_template, tmp_path / "a")
    build(first, monkeypatch)
    entry = entry_of(user_cache, "markupsafe", "bytecode")
    module = entry / "markupsafe" / "__init__.pyc"
    module.unlink()  # a new file: the first project's links keep the original bytes
    module.write_bytes(b"not the bytecode that was compiled")

    second = project(shop_template, tmp_path / "b")
    result, installs = build(second, monkeypatch)

    about = [w for w in result.warnings if "user-level wheel cache" in w]
    assert len(about) == 1
    assert "markupsafe/__init__.pyc was changed" in about[0] and str(entry) in about[0]
    assert installs == []  # the installed entry was sound: only the bytecode was made again
    assert shipped(second) == shipped(first)  # the damage never ships
    record = read_mark(entry, PreparedRecord)  # repaired in place, and sound
    assert record is not None
    assert WheelCache(user_cache).provide(record.key, tmp_path / "c", fill=fail, mark=mark) is None


@pytest.mark.parametrize("damage", ["record", "missing file"])
def test_an_entry_without_its_record_or_a_file_is_prepared_again(
    damage: str, tmp_path: Path, user_cache: Path
) -> None:
    cache = WheelCache(user_cache)
    key = fake_key("pkg")
    fills: list[Path] = []

    def fill(staging: Path) -> None:
        fills.append(staging)
        (staging / "pkg").mkdir()
        (staging / "pkg" / "__init__.py").write_text("VALUE = 1\n")

    assert cache.provide(key, tmp_path / "one", fill=fill, mark=mark) is None
    entry = cache.entry(key)
    if damage == "record":
        (entry / COMPLETE_MARK).unlink()
    else:
        (entry / "pkg" / "__init__.py").unlink()

    problem = cache.provide(key, tmp_path / "two", fill=fill, mark=mark)

    assert problem is not None and str(entry) in problem
    assert len(fills) == 2
    assert (tmp_path / "two" / "pkg" / "__init__.py").read_text() == "VALUE = 1\n"
    assert cache.provide(key, tmp_path / "three", fill=fill, mark=mark) is None
    assert len(fills) == 2


def fake_key(name: str, variant: str = "installed") -> PreparedKey:
    return PreparedKey.model_validate(
        {
            "name": name,
            "version": "1.0",
            "wheel": "sha256:" + name.encode().hex().ljust(64, "0"),
            "python": "3.11",
            "platform": "x86_64-manylinux_2_26",
            "variant": variant,
            "bytecode": "",
            "layout": LAYOUT_VERSION,
        }
    )


def mark(digests: dict[str, str]) -> WheelRecord:
    return WheelRecord(compiled=False, files=digests)


CONCURRENT_BUILD = """
import sys, time
from pathlib import Path

from lambdapress.bundle import wheels
from lambdapress.bundle.pipeline import package

barrier, me, root = Path(sys.argv[1]), sys.argv[2], Path(sys.argv[3])
install = wheels._install_into


def together(site, *args, **kwargs):
    # Both builds start preparing before either has finished: both fill the same entries.
    (barrier / me).touch()
    deadline = time.monotonic() + 60
    while len(list(barrier.iterdir())) < 2 and time.monotonic() < deadline:
        time.sleep(0.02)
    install(site, *args, **kwargs)


wheels._install_into = together
package(root, jobs=1)
"""


def test_two_builds_filling_the_same_entries_at_once_leave_one_good_entry_each(
    shop_template: Path, tmp_path: Path, user_cache: Path
) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    running = []
    for name in ("a", "b"):
        root = project(shop_template, tmp_path / name)
        environment = {**os.environ, "LAMBDAPRESS_CACHE": str(tmp_path / name / "cache")}
        command = [sys.executable, "-c", textwrap.dedent(CONCURRENT_BUILD), str(barrier), name]
        running.append(
            subprocess.Popen(
                [*command, str(root)],
                env=environment,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    for build_process in running:
        _, err = build_process.communicate(timeout=300)
        assert build_process.returncode == 0, err
    assert sorted(p.name for p in barrier.iterdir()) == ["a", "b"]  # both were preparing

    found = entries(user_cache)
    assert len(found) == 4  # six and markupsafe, each as installed and as bytecode only
    assert not [p for p in (user_cache / "wheels" / "v1").iterdir() if p not in found]
    shared = WheelCache(user_cache)
    for entry in found:
        record = read_mark(entry, PreparedRecord)
        assert record is not None
        destination = tmp_path / "check" / entry.name
        assert shared.provide(record.key, destination, fill=fail, mark=mark) is None
    assert shipped(tmp_path / "a" / "shop") == shipped(tmp_path / "b" / "shop")
    # Both projects link the one entry: the loser of the race took the winner's.
    entry = entry_of(user_cache, "six", "bytecode")
    for name in ("a", "b"):
        (linked,) = (tmp_path / name / "cache" / "wheels").glob(f"v*/*{BYTECODE_ONLY}/six-*")
        assert (linked / "six.pyc").stat().st_ino == (entry / "six.pyc").stat().st_ino


def fail(staging: Path) -> None:
    raise AssertionError(f"prepared {staging} again: the entry should have been taken")


def filled(cache: WheelCache, name: str, *, days_ago: float) -> Path:
    """An entry of `cache` last used `days_ago` days ago."""

    def fill(staging: Path) -> None:
        (staging / f"{name}.py").write_text(f"NAME = {name!r}\n" * 100)

    key = fake_key(name)
    cache.provide(key, cache.root.parent / "projects" / name, fill=fill, mark=mark)
    entry = cache.entry(key)
    used = time.time() - days_ago * DAY
    os.utime(entry, (used, used))
    return entry


def test_prune_removes_what_no_build_used_lately_and_keeps_the_rest(user_cache: Path) -> None:
    cache = WheelCache(user_cache)
    old = filled(cache, "old", days_ago=40)
    older = filled(cache, "older", days_ago=400)
    recent = filled(cache, "recent", days_ago=2)

    result = prune_cache(user_cache)

    assert sorted(e.path for e in result.removed) == [old, older]
    assert result.kept == 1 and result.in_use == ()
    assert result.freed == len("NAME = 'old'\n" * 100) + len("NAME = 'older'\n" * 100)
    assert not old.exists() and not older.exists() and recent.is_dir()
    assert prune_cache(user_cache, older_than_days=1).removed[0].path == recent


def test_prune_never_removes_an_entry_a_build_is_reading(user_cache: Path) -> None:
    cache = WheelCache(user_cache)
    busy = filled(cache, "busy", days_ago=90)
    idle = filled(cache, "idle", days_ago=0)

    with files.locked_folder(busy) as held:  # what a build holds while it takes an entry
        assert held
        result = prune_cache(user_cache, everything=True)
        assert [e.path for e in result.in_use] == [busy]
        assert [e.path for e in result.removed] == [idle]
        assert busy.is_dir()
    assert [e.path for e in prune_cache(user_cache, everything=True).removed] == [busy]


def test_a_build_that_finds_its_entry_pruned_prepares_it_again(
    user_cache: Path, tmp_path: Path
) -> None:
    cache = WheelCache(user_cache)
    filled(cache, "gone", days_ago=60)
    prune_cache(user_cache)
    fills: list[Path] = []

    def fill(staging: Path) -> None:
        fills.append(staging)
        (staging / "gone.py").write_text("BACK = True\n")

    assert cache.provide(fake_key("gone"), tmp_path / "p", fill=fill, mark=mark) is None
    assert len(fills) == 1 and (tmp_path / "p" / "gone.py").read_text() == "BACK = True\n"


def test_taking_an_entry_marks_it_used(user_cache: Path, tmp_path: Path) -> None:
    cache = WheelCache(user_cache)
    entry = filled(cache, "kept", days_ago=45)

    assert cache.provide(fake_key("kept"), tmp_path / "p", fill=fail, mark=mark) is None

    assert time.time() - entry.stat().st_mtime < 60
    assert prune_cache(user_cache).removed == ()


def test_info_lists_each_entry_and_the_total(user_cache: Path) -> None:
    cache = WheelCache(user_cache)
    filled(cache, "alpha", days_ago=3)
    filled(cache, "beta", days_ago=1)

    info = cache_info()

    assert info.folder == user_cache and info.chosen_by == f"set by ${ENVIRONMENT}"
    assert [(e.key.name, e.files) for e in info.entries if e.key is not None] == [
        ("alpha", 1),
        ("beta", 1),
    ]
    assert info.size == sum(e.size for e in info.entries) > 0


def test_cache_info_and_prune_on_the_command_line(
    user_cache: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cache = WheelCache(user_cache)
    filled(cache, "alpha", days_ago=3)
    filled(cache, "beta", days_ago=45)

    assert main(["cache", "info"]) == 0
    listed = capsys.readouterr().out
    assert main(["cache", "prune", "--older-than", "10"]) == 0
    pruned = capsys.readouterr().out

    assert listed.splitlines()[:4] == [
        f"wheel cache: {user_cache} (set by ${ENVIRONMENT})",
        "distribution  version  target                      variant    files  size     last used",
        "------------  -------  --------------------------  ---------  -----  -------  -----------",
        "alpha         1.0      3.11 x86_64-manylinux_2_26  installed  1      0.0 MiB  3 days ago",
    ]
    assert listed.splitlines()[-1] == "2 entries, 0.0 MiB (0.0 MiB on disk: variants share files)"
    assert pruned == (
        f"wheel cache: {user_cache}\nremoved 1 entries, unused for 10 days (0.0 MiB); kept 1\n"
    )


def test_the_cache_folder_follows_the_variable_then_xdg_then_home(tmp_path: Path) -> None:
    home = tmp_path / "home"
    assert locate({ENVIRONMENT: "/srv/cache"}, home).folder == Path("/srv/cache")
    assert locate({"XDG_CACHE_HOME": "/xdg"}, home).folder == Path("/xdg/lambdapress")
    assert locate({"XDG_CACHE_HOME": "relative"}, home).folder == home / ".cache/lambdapress"
    assert locate({ENVIRONMENT: "", "XDG_CACHE_HOME": ""}, home).folder == (
        home / ".cache" / "lambdapress"
    )


def test_the_test_session_never_uses_the_real_home_cache() -> None:
    assert locate().folder != locate({}, Path.home()).folder
