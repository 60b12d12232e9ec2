"""The wheel cache: installed once per (distribution, version, target), reused after."""

from __future__ import annotations

from pathlib import Path

from lambdapress.bundle.lock import LockedPackage
from lambdapress.bundle.targets import Target
from lambdapress.bundle.wheels import (
    COMPLETE_MARK,
    LAYOUT_VERSION,
    Installer,
    SourcePolicy,
    WheelRecord,
    ensure_installed,
)
from lambdapress.config.docstrings import CheckedDocstrings, checked_docstrings
from lambdapress.config.settings import ServiceSettings
from lambdapress.support.integrity import file_digest


def test_a_warm_cache_downloads_nothing_and_never_asks_for_credentials(tmp_path: Path) -> None:
    target = Target(python="3.11", architecture="x86_64")
    package = LockedPackage(
        name="private-models",
        version="1.2.0",
        source_kind="pinned",
        source="http://127.0.0.1:9/simple/",
    )
    folder = tmp_path / "wheels" / f"v{LAYOUT_VERSION}" / target.key / "private-models-1.2.0"
    (folder / "private_models").mkdir(parents=True)
    (folder / "private_models" / "__init__.py").write_text("")
    init = folder / "private_models" / "__init__.py"
    record = WheelRecord(compiled=True, files={"private_models/__init__.py": file_digest(init)})
    (folder / COMPLETE_MARK).write_text(record.model_dump_json())
    installs: list[str] = []

    def credentials(index_url: str) -> dict[str, str]:
        raise AssertionError(f"asked for the credentials of {index_url} with a warm cache")

    installer = Installer(
        tmp_path, on_install=lambda p: installs.append(p.name), credentials=credentials
    )
    installed = ensure_installed([package], target, installer)

    assert installs == []
    assert installed["private-models"].import_names == ("private_models",)
    assert installed["private-models"].folder == folder


def test_the_source_policy_is_the_services_three_settings() -> None:
    settings = ServiceSettings(
        sources="first-party", keep_sources=["torch"], docstrings="first-party"
    )
    assert SourcePolicy.of(settings) == SourcePolicy(
        "first-party", frozenset({"torch"}), "first-party"
    )
    assert SourcePolicy.of(ServiceSettings()) == SourcePolicy(
        "first-party", frozenset(), "checked", checked_docstrings()
    )
    assert SourcePolicy() == SourcePolicy("all", frozenset(), "all")  # as installed


def test_checked_drops_docstrings_for_a_listed_release_and_keeps_them_for_the_rest() -> None:
    checked = CheckedDocstrings.model_validate(
        {"distributions": {"demo-lib": {"versions": ">=1.0,<=1.2", "checked": "x", "reads": "x"}}}
    )
    policy = SourcePolicy("first-party", frozenset(), "checked", checked)

    def demo(name: str = "Demo_Lib", version: str = "1.1", kind: str = "registry") -> LockedPackage:
        return LockedPackage(name=name, version=version, source_kind=kind, source="x")

    assert not policy.keeps_docstrings(demo())  # compared by canonical name
    assert policy.keeps_docstrings(demo(version="1.3"))  # a release nobody checked
    assert policy.keeps_docstrings(demo(version="1.2rc1"))  # a pre-release either
    assert policy.keeps_docstrings(demo(name="other-lib"))
    # Built from git, a fork may carry a checked version number: not what was checked.
    assert policy.keeps_docstrings(demo(kind="git"))
    assert not SourcePolicy("first-party", frozenset(), "first-party", checked).keeps_docstrings(
        demo(name="other-lib")
    )
    assert SourcePolicy("first-party", frozenset(), "all", checked).keeps_docstrings(demo())
