"""Every `_migrations` entry of copier.yml, run by the real copier CLI across its real versions.

The template's history is this repository's: v0.1.0 is the commit below, the working tree is
the current version. A service generated at the old version, with tests of the team's own on
top, is updated; the migration must leave those tests passing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
# The commit "copier template: service, package and project kinds", released as v0.1.0.
V0_1_0 = "fcaf3981a5e9eeee6c26dd1b1eb5c0d653e4f7a4"

TEAM_TEST = """
from typing import Any

from orders.handlers import create_order


def test_the_team_posts_json_and_bytes(http_event: Any, lambda_context: Any) -> None:
    event = http_event("POST", "/orders", body={"name": "team"})
    assert create_order.handler(event, lambda_context)["statusCode"] == 201
    raw = http_event(
        "POST",
        "/orders",
        raw_body=b'{"name": "bytes"}',
        headers={"content-type": "application/json"},
    )
    assert create_order.handler(raw, lambda_context)["statusCode"] == 201
"""


def run_tests(sh: Any, service: Path) -> str:
    env = {"PYTHONPATH": str(service / "src")}
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    return sh.run(command, service, env=env).stdout


def test_v0_2_0_moves_a_teams_tests_to_the_plugins_event_fixture(
    sh: Any, release_history: Callable[[Path, str, str, str], Path], tmp_path: Path
) -> None:
    template = release_history(tmp_path / "template", "v0.1.0", V0_1_0, "v0.2.0")
    platform = tmp_path / "platform"
    (platform / "services").mkdir(parents=True)
    service = platform / "services" / "orders"
    copier = [sh.bin("copier")]
    sh.run(
        [*copier, "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.1.0",
         "--data", "kind=service", "--data", "resource=orders", str(template), str(service)],
        platform,
    )  # fmt: skip
    assert "def http_event" in (service / "tests" / "conftest.py").read_text()
    (service / "tests" / "test_team.py").write_text(TEAM_TEST.lstrip())
    assert " passed" in run_tests(sh, service), "the team's tests pass at v0.1.0"
    sh.git(platform, "init", "--quiet", "-b", "main")
    sh.git(platform, "add", "-A")
    sh.git(platform, "commit", "--quiet", "-m", "orders at template v0.1.0, with our tests")

    result = sh.run([*copier, "update", "--trust", "--defaults"], service)

    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["_commit"] == "v0.2.0"
    # A service from before the storage question keeps its in-memory store.
    assert answers["storage"] == "memory"
    assert 'kind = "memory"' in (service / "pyproject.toml").read_text()
    assert not (service / "migrations").exists()
    assert "def http_event" not in (service / "tests" / "conftest.py").read_text()
    team = (service / "tests" / "test_team.py").read_text()
    assert 'http_api_event("POST", "/orders", json_body={"name": "team"})' in team
    assert 'body=b\'{"name": "bytes"}\'' in team and "raw_body" not in team
    assert "test_team.py" in result.stderr, "the migration says what it rewrote"
    assert " passed" in run_tests(sh, service), "and the team's tests pass at v0.2.0"
