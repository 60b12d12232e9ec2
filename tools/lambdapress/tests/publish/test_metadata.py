"""What may be uploaded: twine's rules and ours, on hand-made wheels (fast)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lambdapress.errors import DistributionError
from lambdapress.publish._metadata import check_package, ensure_publishable

PYPROJECT = Path("/repo/packages/demo-models/pyproject.toml")


def test_clean_files_have_no_problems(dists: Any) -> None:
    built = dists("demo-models", "1.0.0", requires=("pydantic>=2.7,<3", "acme-models>=1,<2"))
    assert check_package(built, PYPROJECT, ["acme-models", "demo-models"]) == ()


def test_a_local_path_dependency_is_refused(dists: Any) -> None:
    built = dists("demo-models", "1.0.0", requires=("acme-models @ file:///home/me/acme-models",))
    (problem,) = check_package(built, PYPROJECT, ["acme-models"])
    assert problem.file == built.wheel.filename
    assert problem.message == (
        "`Requires-Dist: acme-models @ file:///home/me/acme-models` points at a local path; "
        "the wheel would only install on the machine that built it"
    )
    assert "[project] dependencies" in problem.hint
    assert str(PYPROJECT) in problem.hint


def test_a_url_dependency_is_refused(dists: Any) -> None:
    built = dists("demo-models", "1.0.0", requires=("tool @ https://example.invalid/tool.whl",))
    (problem,) = check_package(built, PYPROJECT, [])
    assert "points at a URL" in problem.message


def test_a_first_party_dependency_needs_a_range(dists: Any) -> None:
    built = dists("demo-models", "1.0.0", requires=("acme-models", "pydantic"))
    (problem,) = check_package(built, PYPROJECT, ["Acme_Models"])
    assert "`Requires-Dist: acme-models` has no version range" in problem.message
    assert '"acme-models>=1.2,<2"' in problem.hint


def test_name_and_version_must_match_the_pyproject(dists: Any) -> None:
    built = dists("demo-models", "1.0.0")
    renamed = built.model_copy(update={"name": "other-models", "version": "1.0.1"})
    messages = [p.message for p in check_package(renamed, PYPROJECT, [])]
    assert messages == [
        "is named 'demo-models', the pyproject says 'other-models'",
        "has version 1.0.0, the pyproject says 1.0.1",
    ]


def test_twine_rejects_unknown_metadata_fields(dists: Any) -> None:
    built = dists("demo-models", "1.0.0", extra_metadata="Colour: blue\n")
    problems = check_package(built, PYPROJECT, [])
    assert {p.file for p in problems} == {built.wheel.filename, built.sdist.filename}
    assert all("unrecognized or malformed field 'colour'" in p.message for p in problems)


def test_a_broken_rst_description_is_refused(dists: Any) -> None:
    rst = "Description-Content-Type: text/x-rst\n\nTitle\n=====\n\n.. broken-directive::\n"
    built = dists("demo-models", "1.0.0", extra_metadata=rst)
    (problem,) = [p for p in check_package(built, PYPROJECT, []) if "reStructuredText" in p.message]
    assert "does not render" in problem.message


def test_ensure_publishable_is_the_last_guard(dists: Any) -> None:
    clean = dists("demo-models", "1.0.0")
    ensure_publishable([f.path for f in clean.files], PYPROJECT)
    leaky = dists("demo-models", "2.0.0", requires=("acme-models @ file:///abs/acme-models",))
    with pytest.raises(DistributionError, match="refusing to upload") as caught:
        ensure_publishable([f.path for f in leaky.files], PYPROJECT)
    assert caught.value.path == PYPROJECT
    assert "points at a local path" in caught.value.message
