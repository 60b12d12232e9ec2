"""End to end, as a team: a project holds only its own code and takes lambdapress as a pinned
development dependency. A project with a service on every storage, runtime and architecture,
named to break assumptions, passes its own CI (`.ci/run`) in a clean clone; a project made at
an older template version, with services and changes of the team's own, is updated (root,
then every service and package, with the README's script and the copier the project locks)
and passes its own CI too, with no step by hand.

Slow (real virtualenvs, real dependency resolution through uv's cache, PostgreSQL for the
postgres service's tests): marked e2e; CI runs it.
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
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import SecretStr

from lambdapress.publish.pypiserver import ServerPlan, start_server
from lambdapress.support.loopback import free_port

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
# What no run of the project's own commands may print (uv's, when nox hands it another
# environment than the project's; copier's, when a template reads a missing answers file).
FALSE_ALARMS = ("does not match the project environment path", "MissingFileWarning")


def nox(sh: Any, project: Path, *args: str, env: dict[str, str] | None = None) -> str:
    result = sh.run([sys.executable, "-m", "nox", *args], cwd=project, env=env)
    output = result.stdout + result.stderr
    assert not [alarm for alarm in FALSE_ALARMS if alarm in output], output
    return output


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


def run_ci(sh: Any, project: Path, clone: Path) -> str:
    """The project's own CI, exactly as `.ci/run` does it, in a clean clone (git's files only)."""
    sh.run(["git", "clone", "-q", str(project), str(clone)], clone.parent)
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
    ci = sh.run([str(clone / ".ci" / "run")], clone, env={"CI": "true", "PATH": path})
    output = ci.stdout + ci.stderr
    for session in ("package", "lint", "typecheck", "tests"):
        assert f"Session {session} was successful" in output
    assert not [alarm for alarm in FALSE_ALARMS if alarm in output], output
    return output


def folders_tested(output: str) -> set[str]:
    return set(re.findall(r"^(\S+)/tests/\S+\.py \.", output, flags=re.MULTILINE))


# Every storage, runtime and architecture; a model library whose import name sorts after the
# service (`accounts` < `billing_models`), a one-word resource that is no plural (`inventory`),
# a subset of endpoints; a worker of every kind (on `inventory`, on DynamoDB for its stream),
# and the README's two on `accounts`; `inventory`'s create endpoint publishes an event.
WORKERS = "[sqs, sns, schedule, eventbridge, s3, dynamodb-stream]"
SERVICES = {
    "accounts": ("postgres", "python3.11", "x86_64"),
    "inventory": ("dynamodb", "python3.13", "arm64"),
    "line_items": ("memory", "python3.12", "arm64"),
}
WORKER_FUNCTIONS = {
    "accounts.process_account_jobs": "sqs",
    "accounts.report_accounts": "schedule",
    "inventory.process_inventory_item_jobs": "sqs",
    "inventory.on_inventory_item_notifications": "sns",
    "inventory.report_inventory": "schedule",
    "inventory.on_inventory_events": "eventbridge",
    "inventory.on_inventory_uploads": "s3",
    "inventory.on_inventory_changes": "dynamodb-stream",
}
FUNCTIONS = [
    *(f"accounts.{f}_account" for f in ("create", "delete", "get")),
    "accounts.list_accounts",
    "accounts.update_account",
    *(f"inventory.{f}_inventory_item" for f in ("create", "delete", "get")),
    "inventory.list_inventory",
    "inventory.update_inventory_item",
    "line_items.get_line_item",
    "line_items.list_line_items",
    *WORKER_FUNCTIONS,
]


def test_a_project_with_a_service_on_every_storage_passes_its_own_ci_in_a_clean_clone(
    fresh_template: Any, sh: Any, docs: Any, tmp_path: Path, current_version: str
) -> None:
    project = tmp_path / "my-platform"
    fresh_template.copy(project, {"kind": "project", "project_name": "my-platform"}, cwd=tmp_path)
    assert sorted(p.name for p in (project / "tools").iterdir()) == [".gitkeep"]
    assert not any(p.name == "lambdapress" for p in project.rglob("*"))
    sources = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert sources["lambdapress"] == {
        "git": f"file://{fresh_template.template}",
        "tag": current_version,
        "subdirectory": "tools/lambdapress",
    }
    sh.git(project, "init", "-q", "-b", "main")
    commit_all(sh, project, "Start from lambdapress")

    # The README's `nox -s new` lines, as written (the third needs another project's index:
    # test_models_across_projects.py), then the services the README does not show.
    block = next(b for b in docs.blocks(README, "Start a service, a model library or a project")
                 if "nox -s new" in b)  # fmt: skip
    for line in block.splitlines()[:2]:
        output = sh.run(["bash", "-c", line.replace("python3", sys.executable, 1)], project)
        assert not [a for a in FALSE_ALARMS if a in output.stdout + output.stderr], output.stderr
    storage, runtime, architecture = SERVICES["inventory"]
    nox(sh, project, "-s", "new", "--", "service", "inventory", "--models", "billing-models",
        "--data", f"storage={storage}", "--data", f"runtime={runtime}",
        "--data", f"architecture={architecture}", "--data", f"workers={WORKERS}",
        "--data", "created_event=ItemStocked")  # fmt: skip
    nox(sh, project, "-s", "new", "--", "service", "line_items", "--models", "billing-models",
        "--data", "endpoints=[list, get]", "--data", "architecture=arm64")  # fmt: skip
    answers = yaml.safe_load(
        (project / "services" / "accounts" / ".copier-answers.yml").read_text()
    )
    assert (answers["_src_path"], answers["_commit"]) == (
        str(fresh_template.template),
        current_version,
    )
    assert (answers["storage"], answers["runtime"]) == ("postgres", "python3.11")
    assert answers["workers"] == ["sqs", "schedule"]
    lock = tomllib.loads((project / "uv.lock").read_text())
    tool = next(p for p in lock["package"] if p["name"] == "lambdapress")
    assert f"v{tool['version']}" == current_version
    assert f"tag={current_version}" in tool["source"]["git"]
    assert any(p["name"] == "mypy-boto3-dynamodb" for p in lock["package"]), "stubs for mypy"
    commit_all(sh, project, "billing-models, and a service on each storage")

    clean = tmp_path / "clean"
    output = run_ci(sh, project, clean)
    members = ["packages/billing-models", *(f"services/{name}" for name in SERVICES)]
    own = collected(sh, clean, *(f"{member}/tests" for member in members))
    assert passed(output) == own, "the project's tests, and only them"
    assert folders_tested(output) == set(members)
    manifest = json.loads((clean / "dist" / "manifest.json").read_text())
    assert sorted(f["name"] for f in manifest["functions"]) == sorted(FUNCTIONS)
    kinds = {f["name"]: [t["kind"] for t in f["triggers"]] for f in manifest["functions"]}
    workers = {name: found for name, found in kinds.items() if found != ["http"]}
    assert workers == {name: [kind] for name, kind in WORKER_FUNCTIONS.items()}
    resources = {(r["service"], r["kind"], r["name"]) for r in manifest["resources"]}
    assert {(kind, name) for service, kind, name in resources if service == "inventory"} == {
        ("dynamodb-table", "inventory"),
        ("sqs-queue", "inventory-jobs"),
        ("sqs-queue", "inventory-jobs-dlq"),
        ("sns-topic", "inventory-notifications"),
        ("sns-topic", "inventory-changes"),
        ("sns-topic", "inventory-item-events"),
        ("s3-bucket", "inventory-uploads"),
    }
    topics = {
        f["name"]: [u for u in f["uses"] if "/sns-topic/" in u] for f in manifest["functions"]
    }
    assert topics["inventory.create_inventory_item"] == [
        "inventory/sns-topic/inventory-item-events"
    ]
    assert topics["accounts.create_account"] == [], "no created_event, no topic"
    for function in manifest["functions"]:
        service = function["name"].split(".")[0]
        assert (function["runtime"], function["architecture"]) == SERVICES[service][1:]
        with zipfile.ZipFile(clean / function["artifact"]["path"]) as built:
            tops = {name.split("/")[0] for name in built.namelist()}
        assert "lambdapress_runtime" in tops, function["name"]
        assert ("psycopg" in tops) == (service == "accounts"), function["name"]
        assert "boto3" not in tops, function["name"]  # the Lambda runtime provides it
    version = sh.run([str(clean / ".nox" / "tests" / "bin" / "lambdapress"), "--version"], clean)
    assert version.stdout == f"lambdapress {current_version[1:]} (template {current_version})\n"
    assert version.stderr == ""

    serve_one_request(sh, clean, "/line_items")
    publish_to_a_local_index(sh, clean, tmp_path / "index")


def serve_one_request(sh: Any, project: Path, path: str) -> None:
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
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as r:
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
        output = nox(
            sh, project, "-s", "publish", "--", "billing-models", "--index", "local", env=env
        )
        assert password not in output
    uploaded = sorted(p.name for p in (index / "packages").iterdir())
    assert "billing_models-0.1.0-py3-none-any.whl" in uploaded


# ------------------------------------------------------------------ v0.2.0 -> working tree

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


def test_a_project_from_v0_2_0_updated_by_the_readmes_script_passes_its_own_ci(
    sh: Any,
    docs: Any,
    release_history: Callable[[Path, str, str, str], Path],
    releases: dict[str, str],
    current_version: str,
    tmp_path: Path,
) -> None:
    """v0.2.0 is the first version with the project kind, and copied the tool into
    `tools/lambdapress`; its services predate the storage question, `dependencies.py` and
    `lambdapress-runtime`. The README's update script (the root, then each member, with the
    copier the project locks) must leave every commit locked and the project's CI green."""
    template = release_history(tmp_path / "template", "v0.2.0", releases["v0.2.0"], current_version)
    project = tmp_path / "acme-platform"
    copier = [sh.bin("copier"), "copy", "--trust", "--defaults", "--quiet", "--vcs-ref", "v0.2.0"]
    sh.run(
        [*copier, "--data", "kind=project", "--data", "project_name=acme-platform",
         str(template), str(project)],
        tmp_path,
    )  # fmt: skip
    assert (project / "tools" / "lambdapress" / "src" / "lambdapress" / "cli.py").is_file()
    members = {
        "packages/acme-models": ["kind=package", "package_name=acme-models"],
        "services/orders": ["kind=service", "resource=orders"],
        # sorts before acme_models: v0.2.0 wrote its imports in the wrong order
        "services/accounts": ["kind=service", "resource=accounts"],
    }
    for folder, data in members.items():
        options = [part for answer in data for part in ("--data", answer)]
        sh.run([*copier, *options, str(template), folder], project)
    add_team_tool(project)
    with (project / "pyproject.toml").open("a", encoding="utf-8") as config:
        config.write(TEAM_INDEX)
    handler = project / "services" / "orders" / "src" / "orders" / "handlers" / "get_order.py"
    handler.write_text(handler.read_text() + "\n\n# our own change, kept across updates\n")
    sh.git(project, "init", "-q", "-b", "main")
    sh.run(["uv", "lock"], project)  # the team locks and commits the lock
    commit_all(sh, project, "acme-platform at v0.2.0, with our tool, index and change")
    before = sh.git(project, "rev-parse", "HEAD")

    block = next(b for b in docs.blocks(README, "Updating and versions") if "copier update" in b)
    script = tmp_path / "update.sh"
    script.write_text(docs.script(block))
    update = sh.run(["bash", str(script)], project)
    output = update.stdout + update.stderr

    # One commit per update, each locked and its folder lint-clean, none left to do by hand.
    assert sh.git(project, "status", "--porcelain") == ""
    commits = sh.git(project, "rev-list", "--reverse", f"{before}..HEAD").split()
    assert [sh.git(project, "log", "-1", "--format=%s", c) for c in commits] == [
        "Template update: the root",
        "Template update: packages/acme-models",
        "Template update: services/accounts",
        "Template update: services/orders",
    ]
    for commit, folder in zip(commits, [".", *sorted(members)], strict=True):
        sh.git(project, "checkout", "-q", commit)
        sh.run(["uv", "lock", "--check"], project)
        if folder != ".":
            sh.run([sh.bin("ruff"), "check", "--no-cache", folder], project)
    sh.git(project, "checkout", "-q", "main")
    assert output.count("this service keeps its in-memory store") == 2, output
    assert "migrations/v0_3_0_project_tool.py" in output, "v0.3.0's migration ran at the root"
    assert "conflicts" not in output

    # The migrations ran with the copier the project locks.
    lock = tomllib.loads((project / "uv.lock").read_text())
    locked = {p["name"]: p for p in lock["package"]}
    copier_version = sh.run([str(project / ".venv" / "bin" / "copier"), "--version"], project)
    assert copier_version.stdout.split()[-1] == locked["copier"]["version"]

    assert not (project / "tools" / "lambdapress").exists()
    assert sorted(p.name for p in (project / "tools").iterdir()) == [".gitkeep", "release-notes"]
    team_tool = project / "tools" / "release-notes" / "src" / "release_notes" / "__init__.py"
    assert team_tool.read_text() == TEAM_TOOL
    assert "our own change, kept across updates" in handler.read_text()
    for folder in [".", *members]:
        answers = yaml.safe_load((project / folder / ".copier-answers.yml").read_text())
        assert answers["_commit"] == current_version, folder
        if folder.startswith("services/"):
            assert answers["storage"] == "memory"
            assert answers["workers"] == [], "an update adds no worker unless asked"
    pyproject = tomllib.loads((project / "pyproject.toml").read_text())
    assert "lambdapress" in pyproject["dependency-groups"]["dev"]
    assert pyproject["tool"]["uv"]["sources"]["lambdapress"] == {
        "git": f"file://{template}",
        "tag": current_version,
        "subdirectory": "tools/lambdapress",
    }
    assert pyproject["tool"]["lambdapress"]["indexes"] == {
        "company": {"upload-url": "https://pypi.acme.invalid/", "index-url": TEAM_INDEX_URL}
    }, "the team's index survives; the template repository's example `local` index is gone"
    assert "def template(" not in (project / "noxfile.py").read_text()
    assert f"v{locked['lambdapress']['version']}" == current_version, "the update re-locked"
    assert f"tag={current_version}" in locked["lambdapress"]["source"]["git"]
    assert "lambdapress-runtime" in locked, "the services' update added it, and locked it"

    clean = tmp_path / "clean"
    output = run_ci(sh, project, clean)
    folders = ["packages/acme-models", "services/accounts", "services/orders"]
    folders.append("tools/release-notes")
    own = collected(sh, clean, *(f"{folder}/tests" for folder in folders))
    assert passed(output) == own, "ours, the team tool's, and only them"
    assert folders_tested(output) == set(folders)
    lambdapress = str(clean / ".nox" / "tests" / "bin" / "lambdapress")
    version = sh.run([lambdapress, "--version"], clean)
    expected = f"lambdapress {current_version[1:]} (template {current_version})\n"
    assert (version.stdout, version.stderr) == (expected, "")
