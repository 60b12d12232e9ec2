"""The publish decision, from facts built by hand: no disk, no network."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from packaging.version import Version

from lambdapress.errors import PublishError
from lambdapress.publish._compat import Change, CompatReport, ModelReport
from lambdapress.publish._metadata import Problem
from lambdapress.publish._simple import IndexFile
from lambdapress.publish.plan import (
    PackageFacts,
    PlannedFile,
    PublishPlan,
    baseline_version,
    decide,
    next_version,
)

PYPROJECT = Path("/repo/packages/acme-models/pyproject.toml")
WHEEL = PlannedFile(
    filename="acme_models-1.1.0-py3-none-any.whl",
    kind="wheel",
    sha256="a" * 64,
    size=10,
    path=Path("/out/acme_models-1.1.0-py3-none-any.whl"),
)
SDIST = PlannedFile(
    filename="acme_models-1.1.0.tar.gz",
    kind="sdist",
    sha256="b" * 64,
    size=10,
    path=Path("/out/acme_models-1.1.0.tar.gz"),
)


def published(
    version: str, wheel_sha: str = "0" * 64, sdist_sha: str = "1" * 64
) -> list[IndexFile]:
    return [
        IndexFile(
            filename=f"acme_models-{version}-py3-none-any.whl",
            version=version,
            kind="wheel",
            url="http://127.0.0.1/x.whl",
            sha256=wheel_sha,
        ),
        IndexFile(
            filename=f"acme_models-{version}.tar.gz",
            version=version,
            kind="sdist",
            url="http://127.0.0.1/x.tar.gz",
            sha256=sdist_sha,
        ),
    ]


def facts(**changes: Any) -> PackageFacts:
    base: dict[str, Any] = {
        "name": "acme-models",
        "version": "1.1.0",
        "pyproject": PYPROJECT,
        "index": "local",
        "explicit": True,
        "files": (WHEEL, SDIST),
        "tag": "acme-models/1.1.0",
    }
    return PackageFacts(**{**base, **changes})


def report(version: str, *changes: Change, required: str, actual: str) -> CompatReport:
    return CompatReport.model_validate(
        {
            "package": "acme-models",
            "baseline": "1.0.0",
            "version": version,
            "models": [
                ModelReport(model="Entity", changes=changes),
                ModelReport(model="Page", changes=()),
            ],
            "required_bump": required,
            "actual_bump": actual,
        }
    )


REMOVED = Change(model="Entity", location="id", kind="field removed", detail="", breaking=True)
ADDED = Change(
    model="Entity", location="note", kind="field added", detail="optional", breaking=False
)


def test_first_release_is_published() -> None:
    plan = decide(facts())
    assert (plan.status, plan.reasons, plan.baseline) == (
        "publish",
        ("first release on index 'local'",),
        None,
    )


def test_named_package_already_published_is_blocked_even_if_identical() -> None:
    same = published("1.1.0", WHEEL.sha256, SDIST.sha256)
    plan = decide(facts(published=tuple(same)))
    assert plan.status == "blocked"
    assert plan.reasons == (
        "acme-models 1.1.0 is already on index 'local' (identical files); it is never overwritten",
    )
    assert "bump `version`" in plan.hint
    assert plan.published_versions == ("1.1.0",)


def test_unnamed_package_with_identical_files_is_up_to_date() -> None:
    same = published("1.1.0", WHEEL.sha256, SDIST.sha256)
    plan = decide(facts(explicit=False, published=tuple(same)))
    assert plan.status == "up-to-date"


def test_changed_source_without_a_version_bump_is_blocked() -> None:
    plan = decide(facts(explicit=False, published=tuple(published("1.1.0"))))
    assert plan.status == "blocked"
    assert "with different files: the source changed" in plan.reasons[0]


def test_problems_block_and_are_all_listed() -> None:
    problems = (
        Problem(file="a.whl", message="points at a local path", hint="declare it by name"),
        Problem(file="a.whl", message="has no version range", hint="add a range"),
    )
    plan = decide(facts(problems=problems))
    assert plan.status == "blocked"
    assert plan.reasons == tuple(str(p) for p in problems)
    assert plan.hint == "declare it by name"


def test_breaking_change_with_minor_bump_is_blocked_with_the_report() -> None:
    compat = report("1.1.0", REMOVED, required="major", actual="minor")
    plan = decide(facts(published=tuple(published("1.0.0")), baseline="1.0.0", compat=compat))
    assert plan.status == "blocked"
    assert plan.reasons == (
        compat.summary(),
        "Entity: field removed `id` (breaking)",
    )
    assert plan.hint.startswith("publish as 2.0.0 (a major bump")
    assert plan.compat == compat


def test_compatible_change_is_published_with_its_summary() -> None:
    compat = report("1.1.0", ADDED, required="minor", actual="minor")
    plan = decide(facts(published=tuple(published("1.0.0")), baseline="1.0.0", compat=compat))
    assert (plan.status, plan.reasons) == ("publish", (compat.summary(),))


def test_existing_tag_blocks_when_tags_are_requested() -> None:
    plan = decide(facts(tag_requested=True, tag_exists=True))
    assert plan.status == "blocked"
    assert plan.reasons == ("the tag acme-models/1.1.0 already exists",)
    assert decide(facts(tag_requested=False, tag_exists=True)).status == "publish"


@pytest.mark.parametrize(
    ("versions", "local", "expected"),
    [
        ((), "1.0.0", None),
        (("1.0.0", "1.2.0", "2.0.0"), "1.3.0", "1.2.0"),
        (("1.0.0", "2.0.0"), "3.0.0", "2.0.0"),
        (("2.0.0",), "1.0.0", None),
    ],
)
def test_baseline_is_the_highest_published_version_below(
    versions: tuple[str, ...], local: str, expected: str | None
) -> None:
    assert baseline_version(tuple(Version(v) for v in versions), local) == expected


@pytest.mark.parametrize(
    ("baseline", "bump", "expected"),
    [("1.4.2", "major", "2.0.0"), ("1.4.2", "minor", "1.5.0"), ("1.4", "patch", "1.4.1")],
)
def test_next_version(baseline: str, bump: Any, expected: str) -> None:
    assert next_version(baseline, bump) == expected


def test_refusal_names_every_blocked_package_and_the_fix() -> None:
    blocked = decide(facts(tag_requested=True, tag_exists=True))
    other = decide(facts(name="billing-models", pyproject=Path("/repo/packages/b/pyproject.toml")))
    plan = PublishPlan(
        index="local",
        index_url="http://127.0.0.1:1/simple/",
        upload_url="http://127.0.0.1:1/",
        credentials_from="none",
        create_tags=True,
        packages=(blocked, other),
    )
    error = plan.refusal()
    assert isinstance(error, PublishError)
    assert error.path == PYPROJECT
    assert str(error).startswith(f"{PYPROJECT}: acme-models 1.1.0 cannot be published:")
    assert "  - the tag acme-models/1.1.0 already exists" in str(error)
    assert "nothing was uploaded" in str(error)
    assert plan.to_publish == (other,)
    clean = plan.model_copy(update={"packages": (other,)})
    assert clean.refusal() is None
