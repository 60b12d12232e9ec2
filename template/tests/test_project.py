"""End to end, as a team: a project holds only its own code and takes lambdapress as a pinned
development dependency; its CI passes in a clean clone; `copier update` from v0.2.0 (which
copied the tool into `tools/lambdapress`) moves a project to the pin.

Slow (real virtualenvs, real dependency resolution through uv's cache): marked e2e; CI runs it.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import tomllib
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from lambdapress.publish.pypiserver import ServerPlan, free_port, start_server

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
# The commit "template v0.2.0: ...": the release whose project kind copied the tool
# (tools/lambdapress, the template repository's noxfile and pyproject) into every project.
V0_2_0 = "1f932e24845f21145c1027e13e7e68c15d04f6d6"
ENDPOINTS = ["create_order", "delete_order", "get_order", "list_orders", "update_order"]


def nox(sh: Any, project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = sh.run([sys.executable, "-m", "nox", *args], cwd=project, env=env)
    return result.stdout + result.stderr


def passed(output: str) -> int:
    """The count of pytest's last summary line (`20 passed in 1.2s`)."""
    counts = re.findall(r"=+ (\d+) passed", output)
    assert counts, output
    return int(counts[-1])


def collected(sh: Any, project: Path, *folders: str) -> int:
    """How many tests pytest finds in exactly these folders (with the project's own pytest)."""
    pytest_bin = str(project / ".nox" / "tests" / "bin" / "pytest")
    result = sh.run([pytest_bin, "--collect-only", "-q", *folders], cwd=project)
    return int(re.findall(r"(\d+) tests? collected", result.stdout)[-1])


def commit_all(sh: Any, project: Path, message: str) -> None:
    sh.git(project, "add", "-A")
    sh.git(project, "commit", "-q", "-m", message)


def test_a_fresh_project_holds_only_its_code_and_its_ci_passes_in_a_clean_clone(
    fresh_template: Any, sh: Any, tmp_path: Path
) -> None:
    project = tmp_path / "acme-platform"
    fresh_template.copy(project, {"kind": "project", "project_name": "acme-platform"}, cwd=tmp_path)
    assert sorted(p.name for p in (project / "tools").iterdir()) == [".gitkeep"]
    assert not any(p.name == "lambdapress" for p in project.rglob("*"))
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources["lambdapress"] == {
        "git": f"file://{fresh_template.template}",
        "tag": "v0.3.0",
        "subdirectory": "tools/lambdapress",
    }
    sh.git(project, "init", "-q", "-b", "main")
    commit_all(sh, project, "Start from lambdapress")

    # `nox -s new` finds the template from the project's own answers file.
    nox(sh, project, "-s", "new", "--", "package", "acme-models")
    nox(sh, project, "-s", "new", "--", "service", "orders")
    answers = yaml.safe_load((project / "services" / "orders" / ".copier-answers.yml").read_text())
    assert (answers["_src_path"], answers["_commit"]) == (str(fresh_template.template), "v0.3.0")
    lock = tomllib.loads((project / "uv.lock").read_text())
    tool = next(p for p in lock["package"] if p["name"] == "lambdapress")
    assert tool["version"] == "0.3.0"
    assert "tag=v0.3.0" in tool["source"]["git"]
    commit_all(sh, project, "Add acme-models and the orders service")

    # CI, exactly as the project's .ci/run does it, in a clean clone (nothing but git's files).
    clean = tmp_path / "clean"
    sh.run(["git", "clone", "-q", str(project), str(clean)], tmp_path)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    ci = sh.run([str(clean / ".ci" / "run")], clean, env={"CI": "true", "PATH": path})
    output = ci.stdout + ci.stderr
    for session in ("package", "lint", "typecheck", "tests"):
        assert f"Session {session} was successful" in output
    own = collected(sh, clean, "packages/acme-models/tests", "services/orders/tests")
    assert passed(output) == own, "the project's tests, and only them"
    assert own < 50
    tested = set(re.findall(r"^(\S+)/tests/\S+\.py \.", output, flags=re.MULTILINE))
    assert tested == {"packages/acme-models", "services/orders"}
    manifest = json.loads((clean / "dist" / "manifest.json").read_text())
    assert [f["name"] for f in manifest["functions"]] == [f"orders.{e}" for e in ENDPOINTS]
    version = sh.run([str(clean / ".nox" / "tests" / "bin" / "lambdapress"), "--version"], clean)
    assert version.stdout == "lambdapress 0.3.0 (template v0.3.0)\n"
    assert version.stderr == ""

    serve_one_request(sh, clean)
    publish_to_a_local_index(sh, clean, tmp_path / "index")


def serve_one_request(sh: Any, project: Path) -> None:
    """`nox -s serve`: up on 127.0.0.1, answers one API request from the built zips, stops."""
    port = free_port()
    command = [sys.executable, "-m", "nox", "-s", "serve", "--", "--port", str(port), "--no-watch"]
    env = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "CI"}}
    log = project / "serve.log"
    with log.open("wb") as sink:
        server = subprocess.Popen(
            command, cwd=project, env=env, stdout=sink, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        body = None
        deadline = time.monotonic() + 180
        while body is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/orders", timeout=30) as r:
                    body = (r.status, json.loads(r.read()))
            except OSError:
                time.sleep(0.5)
        assert body is not None, log.read_text()
        assert body[0] == 200
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)


def publish_to_a_local_index(sh: Any, project: Path, index: Path) -> None:
    """`nox -s publish`: the model library, built and uploaded to a pypiserver on 127.0.0.1."""
    password = secrets.token_urlsafe(12)
    plan = ServerPlan(
        port=free_port(),
        packages_dir=index / "packages",
        htpasswd=index / "htpasswd",
        username="publisher",
        password=SecretStr(password),
        fallback=False,
    )
    with start_server(plan) as server:
        with (project / "pyproject.toml").open("a", encoding="utf-8") as config:
            config.write(
                f'\n[tool.lambdapress.indexes.local]\nupload-url = "{server.url}"\n'
                f'index-url = "{server.url}simple/"\n'
            )
        env = {
            "LAMBDAPRESS_INDEX_LOCAL_USERNAME": "publisher",
            "LAMBDAPRESS_INDEX_LOCAL_PASSWORD": password,
        }
        output = nox(sh, project, "-s", "publish", "--", "acme-models", "--index", "local", env=env)
        assert password not in output
    uploaded = sorted(p.name for p in (index / "packages").iterdir())
    assert "acme_models-0.1.0-py3-none-any.whl" in uploaded


# ------------------------------------------------------------------ v0.2.0 -> v0.3.0

TEAM_INDEX_URL = "https://pypi.acme.invalid/simple/"
TEAM_INDEX = f"""
[tool.lambdapress.indexes.company]
upload-url = "https://pypi.acme.invalid/"
index-url = "{TEAM_INDEX_URL}"
"""
TEAM_TOOL_PYPROJECT = """[project]
name = "release-notes"
version = "0.1.0"
description = "Our own tool: release notes from git tags."
requires-python = ">=3.11"

[tool.poetry]
packages = [{ include = "release_notes", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""
TEAM_TOOL = '''"""Release notes, the team's way."""


def title(version: str) -> str:
    """The heading of one release."""
    return f"Release {version}"
'''
TEAM_TOOL_TEST = """from release_notes import title


def test_title() -> None:
    assert title("1.0") == "Release 1.0"
"""


def add_team_tool(project: Path) -> None:
    tool = project / "tools" / "release-notes"
    (tool / "src" / "release_notes").mkdir(parents=True)
    (tool / "tests").mkdir()
    (tool / "pyproject.toml").write_text(TEAM_TOOL_PYPROJECT)
    (tool / "src" / "release_notes" / "__init__.py").write_text(TEAM_TOOL)
    (tool / "tests" / "test_release_notes.py").write_text(TEAM_TOOL_TEST)


def test_copier_update_from_v0_2_0_replaces_the_copied_tool_with_the_pin(
    sh: Any, release_history: Callable[[Path, str, str, str], Path], tmp_path: Path
) -> None:
    template = release_history(tmp_path / "template", "v0.2.0", V0_2_0, "v0.3.0")
    project = tmp_path / "acme-platform"
    copier = [sh.bin("copier"), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.2.0"]
    sh.run(
        [*copier, "--data", "kind=project", "--data", "project_name=acme-platform",
         str(template), str(project)],
        tmp_path,
    )  # fmt: skip
    assert (project / "tools" / "lambdapress" / "src" / "lambdapress" / "cli.py").is_file()
    for kind, folder, data in (
        ("package", "packages/acme-models", ["--data", "package_name=acme-models"]),
        ("service", "services/orders", ["--data", "resource=orders"]),
    ):
        sh.run([*copier, "--data", f"kind={kind}", *data, str(template), folder], project)
    add_team_tool(project)
    with (project / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(TEAM_INDEX)
    handler = project / "services" / "orders" / "src" / "orders" / "handlers" / "get_order.py"
    handler.write_text(handler.read_text() + "\n# our own change, kept across updates\n")
    sh.git(project, "init", "-q", "-b", "main")
    commit_all(sh, project, "acme-platform at v0.2.0, with our tool, index and change")

    # v0.2.0's suite is the tool's tests and ours; the tool's pass in this repository's own
    # CI, so here they are collected (the v0.2.0 noxfile names them) but deselected.
    before = nox(
        sh, project, "-s", "tests", "--", "-m", "not e2e", "--deselect", "tools/lambdapress/tests"
    )
    own_before = passed(before)
    assert own_before > 0
    commit_all(sh, project, "uv.lock")  # the first run locks; the team commits the lock

    # What running the tool from source leaves behind (ignored by git, so copier keeps it).
    sh.run([sys.executable, "-m", "compileall", "-q", "tools/lambdapress/src"], project)
    update = sh.run([sh.bin("copier"), "update", "--trust", "--defaults"], project)
    assert "removed the copied tool tools/lambdapress/" in update.stderr

    assert not (project / "tools" / "lambdapress").exists()
    assert sorted(p.name for p in (project / "tools").iterdir()) == [".gitkeep", "release-notes"]
    team_tool = project / "tools" / "release-notes" / "src" / "release_notes" / "__init__.py"
    assert team_tool.read_text() == TEAM_TOOL
    assert "our own change, kept across updates" in handler.read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v0.3.0"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert "lambdapress" in pyproject["dependency-groups"]["dev"]
    assert pyproject["tool"]["uv"]["sources"]["lambdapress"] == {
        "git": f"file://{template}",
        "tag": "v0.3.0",
        "subdirectory": "tools/lambdapress",
    }
    assert pyproject["tool"]["lambdapress"]["indexes"] == {
        "company": {"upload-url": "https://pypi.acme.invalid/", "index-url": TEAM_INDEX_URL}
    }, "the team's index survives; the template repository's example `local` index is gone"
    assert "def template(" not in (project / "noxfile.py").read_text()
    lock = tomllib.loads((project / "uv.lock").read_text())
    tool = next(p for p in lock["package"] if p["name"] == "lambdapress")
    assert tool["version"] == "0.3.0", "the update re-locked"
    assert "tag=v0.3.0" in tool["source"]["git"]

    after = nox(sh, project, "-s", "tests")
    team_tool_tests = 1
    assert passed(after) == own_before + team_tool_tests, "ours, and the team tool's now too"
    tested = set(re.findall(r"^(\S+)/tests/\S+\.py \.", after, flags=re.MULTILINE))
    assert tested == {"packages/acme-models", "services/orders", "tools/release-notes"}
    lambdapress = str(project / ".nox" / "tests" / "bin" / "lambdapress")
    version = sh.run([lambdapress, "--version"], project)
    assert (version.stdout, version.stderr) == ("lambdapress 0.3.0 (template v0.3.0)\n", "")
