"""checkov on the example platform's dev and prod templates: only the committed skips fail.

checkov runs in its own environment (`uv tool run --from checkov==<version>`, the version
pinned in checkov-skips.toml; uv keeps the environment in its cache, so only the first run
installs it: .ci/run makes that run before the tests). Both templates go to one checkov run
(about 20 s). Every failed check must be listed for that stage in checkov-skips.toml, each
with a reason; a listed check that passes fails the test too, so the list stays true.
"""

from __future__ import annotations

import json
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest

from lambdapress.deploy.config import load_deploy_config
from lambdapress.deploy.template import template_body
from lambdapress.model.application import Application

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
SKIPS = REPO_ROOT / "checkov-skips.toml"
STAGES = ("dev", "prod")


def skips() -> tuple[str, dict[str, dict[str, Any]]]:
    """checkov's pinned version, and the skipped checks by id."""
    table = tomllib.loads(SKIPS.read_text(encoding="utf-8"))
    version = table.pop("version")
    return version, table


def checkov(version: str, templates: list[Path]) -> list[dict[str, Any]]:
    """checkov's report of each template (its JSON output: one report per file's framework)."""
    files = [argument for path in templates for argument in ("-f", str(path))]
    command = ["uv", "tool", "run", "--from", f"checkov=={version}", "checkov", *files]
    command += ["--framework", "cloudformation", "--output", "json", "--compact", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, check=False, timeout=600)
    # 0: nothing failed, 1: some checks failed; anything else is checkov itself failing.
    assert done.returncode in (0, 1), done.stderr[-2000:]
    report = json.loads(done.stdout)
    return report if isinstance(report, list) else [report]


def test_the_skip_list_gives_a_reason_and_the_stages_of_each_check() -> None:
    version, table = skips()
    assert version.count(".") == 2
    for check, entry in table.items():
        assert check.startswith("CKV_"), check
        assert set(entry) == {"stages", "reason"}, check
        assert set(entry["stages"]) <= set(STAGES) and entry["stages"], check
        assert len(entry["reason"].split()) >= 8, f"{check}: say why it is skipped"


def test_checkov_fails_only_the_committed_skips_on_the_example_s_templates(
    packaged_examples: tuple[Path, Application], tmp_path: Path
) -> None:
    root, manifest = packaged_examples
    config = load_deploy_config(root)
    templates = []
    for stage in STAGES:
        path = tmp_path / f"{stage}.json"
        path.write_text(template_body(manifest, config, stage), encoding="utf-8")
        templates.append(path)
    version, table = skips()

    reports = checkov(version, templates)

    failed: dict[str, set[str]] = {stage: set() for stage in STAGES}
    passed = 0
    for report in reports:
        assert report["summary"]["parsing_errors"] == 0
        assert report["summary"]["checkov_version"] == version
        passed += report["summary"]["passed"]
        for check in report["results"]["failed_checks"]:
            stage = Path(check["file_path"]).stem
            failed[stage].add(check["check_id"])
    assert passed > 0
    for stage in STAGES:
        allowed = {check for check, entry in table.items() if stage in entry["stages"]}
        assert failed[stage] - allowed == set(), f"{stage}: fix the template, or add a reason"
        assert allowed - failed[stage] == set(), f"{stage}: these pass now, remove their skip"
