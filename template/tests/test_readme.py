"""README.md's template commands run as written, and its table of versions is the history's.

The copier block of "Start a service, a model library or a project" runs as a bash script
(`set -euo pipefail`, `<template>` filled in, nothing else changed) in an empty folder, with
no terminal: what a user pastes into CI. Its `nox -s new` block and the update script of
"Updating and versions" run in `test_project.py`, in projects that have the tool installed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
START = "Start a service, a model library or a project"
UPDATING = "Updating and versions"


@pytest.mark.e2e
def test_the_readmes_copier_commands_run_as_written_in_a_script(
    fresh_template: Any, sh: Any, docs: Any, tmp_path: Path
) -> None:
    block = next(b for b in docs.blocks(README, START) if "copier copy" in b)
    script = tmp_path / "start.sh"
    script.write_text(docs.script(block, template=str(fresh_template.template)))
    folder = tmp_path / "work"
    folder.mkdir()
    # uvx as the quick start installs it (this environment's), copier from the index as uvx
    # fetches it; no terminal: stdin is closed.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    result = subprocess.run(
        ["bash", str(script)],
        cwd=folder,
        env={**os.environ, "PATH": path, "GIT_CONFIG_GLOBAL": os.devnull, **sh_identity()},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "MissingFileWarning" not in result.stderr

    project = folder / "my-platform"
    kinds = {
        str(answers.parent.relative_to(project)): yaml.safe_load(answers.read_text())["kind"]
        for answers in sorted(project.rglob(".copier-answers.yml"))
    }
    assert kinds == {
        ".": "project",
        "packages/billing-models": "package",
        "services/payments": "service",
    }
    service = yaml.safe_load((project / "services/payments/.copier-answers.yml").read_text())
    assert service["models_package"] == "billing-models"
    log = sh.git(project, "log", "--format=%s")
    assert log == "Start from lambdapress"


def sh_identity() -> dict[str, str]:
    """The README's `git commit` needs an author; a CI machine may have none configured."""
    return {
        "GIT_AUTHOR_NAME": "lambdapress tests",
        "GIT_AUTHOR_EMAIL": "tests@lambdapress.invalid",
        "GIT_COMMITTER_NAME": "lambdapress tests",
        "GIT_COMMITTER_EMAIL": "tests@lambdapress.invalid",
    }


def version_rows() -> list[dict[str, str]]:
    """The table of versions in "Updating and versions": version, commit (empty for one that
    is not made yet), kinds."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"## {UPDATING}\n") :]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and re.fullmatch(r"v\d+\.\d+\.\d+", cells[0]):
            commit = re.match(r"`([0-9a-f]{7,40})`", cells[1])
            rows.append(
                {
                    "version": cells[0],
                    "commit": commit.group(1) if commit else "",
                    "kinds": cells[2],
                }
            )
    return rows


def test_the_table_of_versions_names_the_releases_the_tests_use(
    releases: dict[str, str], current_version: str, sh: Any
) -> None:
    rows = version_rows()
    assert [row["version"] for row in rows][-1] == current_version
    for row in rows:
        if row["version"] in releases:
            assert releases[row["version"]].startswith(row["commit"]), row
    listed = {row["version"] for row in rows if row["commit"]}
    assert listed == set(releases), "every release the tests use is in the table, and only them"
    first_project = next(row for row in rows if "project" in row["kinds"])
    assert first_project["version"] == "v0.2.0", "test_project.py renders a project there"
    words = " ".join(README.read_text(encoding="utf-8").split())
    if "This repository has no tags yet" in words:
        assert sh.git(REPO_ROOT, "tag", "--list", "v[0-9]*") == "", "the README says no tags"


def test_a_project_cannot_be_rendered_at_a_version_the_table_lists_without_it(
    sh: Any, releases: dict[str, str], tmp_path: Path
) -> None:
    """v0.1.0's project kind links to `tools/`, which that commit does not hold: copier fails
    there, as the table says. (A project at v0.2.0, the first with the kind, is rendered and
    updated by `test_project.py`.)"""
    without = [row for row in version_rows() if row["commit"] and "project" not in row["kinds"]]
    assert [row["version"] for row in without] == ["v0.1.0"]
    template = tmp_path / "template"
    sh.run(["git", "clone", "-q", "--no-local", str(REPO_ROOT), str(template)], tmp_path)
    for row in without:
        sh.git(template, "tag", row["version"], releases[row["version"]])
        copy = [sh.bin("copier"), "copy", "--trust", "--defaults", "--vcs-ref", row["version"]]
        copy += ["--data", "kind=project", "--data", "project_name=p", str(template)]
        result = sh.run([*copy, str(tmp_path / "p")], tmp_path, check=False)
        assert result.returncode != 0
        assert "template/project/tools" in result.stderr


def test_both_readmes_show_the_same_update_script(docs: Any) -> None:
    """The root README and the one every project gets (which `test_project.py` runs)."""
    ours = next(b for b in docs.blocks(README, UPDATING) if "copier update" in b)
    project = REPO_ROOT / "template" / "project" / "README.md.jinja"
    theirs = next(b for b in docs.blocks(project, "Upgrading") if "copier update" in b)
    assert ours == theirs
