"""Third-party closures come from uv.lock alone, evaluated for the Lambda target."""

from __future__ import annotations

from pathlib import Path

import pytest

from lambdapress.bundle.lock import read_lock
from lambdapress.bundle.targets import Target
from lambdapress.errors import ConfigError

LOCK = """
version = 1

[[package]]
name = "svc"
version = "0.1.0"
source = { editable = "services/svc" }
dependencies = [
    { name = "lib", extra = ["fast"] },
    { name = "winonly", marker = "sys_platform == 'win32'" },
    { name = "armonly", marker = "platform_machine == 'aarch64'" },
    { name = "old", marker = "python_full_version < '3.12'" },
]

[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "base" }]
wheels = [{ url = "https://files.example/lib-1.0-py3-none-any.whl", hash = "sha256:00" }]

[package.optional-dependencies]
fast = [{ name = "speedups" }]

[[package]]
name = "base"
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "speedups"
version = "3.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "winonly"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "armonly"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "old"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""


@pytest.fixture
def lock_root(tmp_path: Path) -> Path:
    (tmp_path / "uv.lock").write_text(LOCK)
    return tmp_path


def test_markers_and_extras_are_evaluated_for_the_target(lock_root: Path) -> None:
    lock = read_lock(lock_root)
    x86_311 = lock.closure("svc", Target(python="3.11", architecture="x86_64"))
    assert set(x86_311) == {"svc", "lib", "base", "speedups", "old"}
    arm_312 = lock.closure("svc", Target(python="3.12", architecture="arm64"))
    assert set(arm_312) == {"svc", "lib", "base", "speedups", "armonly"}
    assert lock.find("lib").wheels[0].filename == "lib-1.0-py3-none-any.whl"
    assert lock.find("svc").is_local and not lock.find("lib").is_local


def test_skipped_distributions_take_their_requirements_with_them(lock_root: Path) -> None:
    lock = read_lock(lock_root)
    target = Target(python="3.11", architecture="x86_64")
    assert set(lock.requirements_of(["svc"], target, frozenset({"lib"}))) == {"svc", "old"}


def test_a_missing_lock_says_how_to_make_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no uv\.lock") as caught:
        read_lock(tmp_path)
    assert "uv lock" in (caught.value.hint or "")


def test_targets_name_their_platform_and_accept_the_right_wheels() -> None:
    old = Target(python="3.11", architecture="x86_64")
    new = Target(python="3.13", architecture="arm64")
    assert (old.uv_platform, new.uv_platform) == ("x86_64-manylinux2014", "aarch64-manylinux_2_34")
    assert any(str(t) == "cp311-cp311-manylinux_2_17_x86_64" for t in old.wheel_tags())
    assert not any("manylinux_2_28" in str(t) for t in old.wheel_tags())
    assert any(str(t) == "cp313-cp313-manylinux_2_28_aarch64" for t in new.wheel_tags())
    assert any(str(t) == "py3-none-any" for t in new.wheel_tags())


def test_a_lock_is_parsed_once_per_content_across_runs(
    lock_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from lambdapress.bundle import lock as locking
    from lambdapress.bundle._facts import FileFacts

    parsed: list[Path] = []
    load_toml = locking.load_toml
    monkeypatch.setattr(locking, "load_toml", lambda p: parsed.append(p) or load_toml(p))
    cache = tmp_path / "cache"

    def run() -> locking.Lock:
        facts = FileFacts.load(cache)
        lock = read_lock(lock_root, facts)
        facts.save()
        return lock

    first = run()
    again = run()
    assert len(parsed) == 1
    assert again == first and again.path == lock_root / "uv.lock"

    (kept,) = (cache / "facts").glob("lock-*.json")
    kept.write_bytes(kept.read_bytes().replace(b'"2.0"', b'"2.1"'))  # damaged: parsed again
    assert run() == first
    assert len(parsed) == 2

    lock_file = lock_root / "uv.lock"
    lock_file.write_text(lock_file.read_text().replace('version = "2.0"', 'version = "2.2"'))
    changed = run()
    assert len(parsed) == 3
    assert changed.find("base").version == "2.2"
    assert [p.name for p in (cache / "facts").glob("lock-*.json")] != [kept.name]


EXTRAS_LOCK = """
version = 1

[[package]]
name = "svc"
version = "0.1.0"
source = { editable = "services/svc" }
dependencies = [
    { name = "driver", extra = ["binary"] },
    { name = "models" },
    { name = "toolkit" },
    { name = "boto3" },
]

[[package]]
name = "models"
version = "0.1.0"
source = { editable = "packages/models" }
dependencies = [{ name = "mailer", extra = ["email"] }]

[[package]]
name = "toolkit"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "client", extra = ["socks"] }]

[[package]]
name = "driver"
version = "3.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
binary = [
    { name = "driver-binary", marker = "implementation_name != 'pypy'" },
    { name = "winhelper", marker = "sys_platform == 'win32'" },
]
all = [{ name = "driver", extra = ["binary", "pool"] }]
pool = [{ name = "driver", extra = ["all"] }, { name = "pooler" }]

[[package]]
name = "driver-binary"
version = "3.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "winhelper"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "pooler"
version = "1.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "mailer"
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[package.optional-dependencies]
email = [{ name = "dns" }]

[[package]]
name = "dns"
version = "2.0"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "client"
version = "2.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "mailer" }]

[package.optional-dependencies]
socks = [{ name = "pysocks" }]

[[package]]
name = "pysocks"
version = "1.7"
source = { registry = "https://pypi.org/simple" }

[[package]]
name = "boto3"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
dependencies = [{ name = "jmespath" }]

[[package]]
name = "jmespath"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
"""
X86_311 = Target(python="3.11", architecture="x86_64")


@pytest.fixture
def extras_lock(tmp_path: Path) -> Path:
    (tmp_path / "uv.lock").write_text(EXTRAS_LOCK)
    return tmp_path


def test_the_extras_a_service_turns_on_are_found_wherever_they_are_declared(
    extras_lock: Path,
) -> None:
    lock = read_lock(extras_lock)
    assert lock.extras_in("svc", X86_311) == {
        "driver": frozenset({"binary"}),  # by the service itself
        "mailer": frozenset({"email"}),  # by a workspace package it depends on
        "client": frozenset({"socks"}),  # by a locked package's requirement
    }


def test_a_distribution_shipped_alone_takes_what_its_turned_on_extras_require(
    extras_lock: Path,
) -> None:
    lock = read_lock(extras_lock)
    extras = lock.extras_in("svc", X86_311)

    # A function imports only `driver`: `driver[binary]` still ships driver-binary, evaluated
    # for the target (the Windows-only helper stays out).
    assert set(lock.requirements_of(["driver"], X86_311, extras=extras)) == {
        "driver",
        "driver-binary",
    }
    # `mailer` reached through `client`, not imported itself: its extra ships all the same.
    assert set(lock.requirements_of(["client"], X86_311, extras=extras)) == {
        "client",
        "pysocks",
        "mailer",
        "dns",
    }
    # Without the service's extras, what a bare closure has always been.
    assert set(lock.requirements_of(["driver"], X86_311)) == {"driver"}


def test_extras_that_name_each_other_are_followed_once(extras_lock: Path) -> None:
    lock = read_lock(extras_lock)
    closure = lock.closure("driver", X86_311, extras={"driver": frozenset({"all"})})
    assert set(closure) == {"driver", "driver-binary", "pooler"}


def test_a_skipped_distribution_named_directly_ships_nothing_of_its_own(
    extras_lock: Path,
) -> None:
    """boto3 imported under aws_sdk = "runtime": neither it nor what it needs ships."""
    lock = read_lock(extras_lock)
    assert lock.requirements_of(["boto3"], X86_311, frozenset({"boto3"})) == {}
    assert set(lock.requirements_of(["boto3", "jmespath"], X86_311, frozenset({"boto3"}))) == {
        "jmespath"
    }


def test_a_marker_on_an_extra_is_evaluated_with_that_extra() -> None:
    from lambdapress.bundle.lock import Dependency

    only_for_fast = Dependency(name="speedups", marker="extra == 'fast'")
    assert only_for_fast.applies_to(X86_311, "fast")
    assert not only_for_fast.applies_to(X86_311)
    arm_only = Dependency(name="x", marker="platform_machine == 'aarch64' and extra == 'fast'")
    assert not arm_only.applies_to(X86_311, "fast")
    assert arm_only.applies_to(Target(python="3.12", architecture="arm64"), "fast")
