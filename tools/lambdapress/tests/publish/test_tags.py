"""Release tags `<package>/<version>`: never version-looking, never moved."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from packaging.version import InvalidVersion, Version

from lambdapress.errors import PublishError
from lambdapress.publish._tags import create_tag, tag_exists, tag_name


def test_tag_names_do_not_look_like_template_versions() -> None:
    name = tag_name("acme-models", "1.2.0")
    assert name == "acme-models/1.2.0"
    with pytest.raises(InvalidVersion):
        Version(name.removeprefix("v"))


def test_create_and_refuse_to_move(tmp_path: Path, run_git: Any) -> None:
    run_git(tmp_path, "init", "-q")
    run_git(tmp_path, "commit", "-q", "--allow-empty", "-m", "one")
    assert not tag_exists(tmp_path, "acme-models/1.0.0")
    create_tag(tmp_path, "acme-models/1.0.0")
    assert tag_exists(tmp_path, "acme-models/1.0.0")
    first = run_git(tmp_path, "rev-parse", "acme-models/1.0.0").strip()
    run_git(tmp_path, "commit", "-q", "--allow-empty", "-m", "two")
    with pytest.raises(
        PublishError, match=r"cannot create the tag 'acme-models/1\.0\.0'"
    ) as caught:
        create_tag(tmp_path, "acme-models/1.0.0")
    assert "the upload succeeded" in str(caught.value.hint)
    assert run_git(tmp_path, "rev-parse", "acme-models/1.0.0").strip() == first


def test_outside_a_repository_nothing_exists(tmp_path: Path) -> None:
    assert not tag_exists(tmp_path, "acme-models/1.0.0")
