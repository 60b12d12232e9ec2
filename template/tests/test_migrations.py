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


# ------------------------------------------------------------------ every update, this version

ROOT_PYPROJECT = '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n'
NOT_A_LOCK = "# not a lock uv wrote: uv would refuse it, so it must never run on it\n"


def new_template_version(
    sh: Any, template: Path, tag: str, edits: dict[str, tuple[str, str]]
) -> None:
    """Commit `edits` (file -> (old text, new text)) to the template and tag the commit."""
    for name, (old, new) in edits.items():
        path = template / name
        text = path.read_text(encoding="utf-8")
        assert text.count(old) == 1, name
        path.write_text(text.replace(old, new), encoding="utf-8")
    sh.git(template, "commit", "-q", "-am", f"template {tag}")
    sh.git(template, "tag", tag)


def platform_with_a_service(sh: Any, fresh_template: Any, root: Path, locked: bool = False) -> Path:
    """A workspace (a root pyproject; a lock if `locked`) with services/orders from the
    template, in git. Never locked, the re-lock after an update leaves it alone."""
    (root / "services").mkdir(parents=True)
    (root / "pyproject.toml").write_text(ROOT_PYPROJECT)
    if locked:
        (root / "uv.lock").write_text(NOT_A_LOCK)
    service = root / "services" / "orders"
    copied = fresh_template.copy(service, {"kind": "service", "resource": "orders"}, cwd=root)
    assert "MissingFileWarning" not in copied.stderr, "a new service reads no answers file"
    sh.git(root, "init", "-q", "-b", "main")
    return service


def test_a_service_from_before_the_storage_question_keeps_memory_when_the_default_moves(
    sh: Any, fresh_template: Any, tmp_path: Path
) -> None:
    """copier 9.19 renders a before-stage migration's `when` without the answers (`kind` is
    undefined there): the migration must still run, or an old service would take the new
    default. The next version here defaults to dynamodb; the service must stay in memory."""
    service = platform_with_a_service(sh, fresh_template, tmp_path / "platform")
    answers = service / ".copier-answers.yml"
    answers.write_text(
        "".join(line for line in answers.read_text().splitlines(True) if "storage" not in line)
    )  # as a service rendered before v0.3.0 recorded it
    sh.git(service, "add", "-A")
    sh.git(service, "commit", "-q", "-m", "orders, from before the storage question")
    new_template_version(
        sh,
        fresh_template.template,
        "v0.4.1",
        {"copier.yml": ("  default: memory\n", "  default: dynamodb\n")},
    )

    update = sh.run([sh.bin("copier"), "update", "--trust", "--defaults"], service)

    assert "this service keeps its in-memory store" in update.stderr
    assert yaml.safe_load(answers.read_text())["storage"] == "memory"
    assert 'kind = "memory"' in (service / "pyproject.toml").read_text()
    assert not (service / "src" / "orders" / "dynamodb_repository.py").exists()
    assert "MissingFileWarning" not in update.stderr, "an update reads no missing answers file"


def test_an_update_that_conflicts_stops_before_uv_lock_and_names_the_file(
    sh: Any, fresh_template: Any, tmp_path: Path
) -> None:
    """The team and the template changed the same line of a service's pyproject: copier leaves
    conflict markers, and the re-lock that follows every update must not feed them to uv."""
    root = tmp_path / "platform"
    service = platform_with_a_service(sh, fresh_template, root, locked=True)
    config = service / "pyproject.toml"
    ours = "# How lambdapress deploys each handler of this service."
    config.write_text(config.read_text().replace(ours, "# Our deploy settings."))
    sh.git(root, "add", "-A")
    sh.git(root, "commit", "-q", "-m", "orders, with our comment")
    new_template_version(
        sh,
        fresh_template.template,
        "v0.4.1",
        {"template/service/pyproject.toml.jinja": (ours, "# How lambdapress deploys it.")},
    )

    update = sh.run([sh.bin("copier"), "update", "--trust", "--defaults"], service, check=False)

    assert update.returncode == 1, update.stderr
    marker = next(
        n for n, line in enumerate(config.read_text().splitlines(), 1) if line.startswith("<<<")
    )
    named = f"  services/orders/pyproject.toml (line {marker})\n"
    assert f"lambdapress: the update left conflicts in:\n{named}" in update.stderr
    assert "then run `uv lock` in" in update.stderr
    assert "TOML" not in update.stderr and "uv lock` failed" not in update.stderr
    assert (root / "uv.lock").read_text() == NOT_A_LOCK, "uv never ran"


def test_an_update_with_a_workers_answer_adds_them_and_keeps_the_teams_changes(
    sh: Any, fresh_template: Any, docs: Any, tmp_path: Path
) -> None:
    """README.md, "Workers": a service made without workers gains them by an update that gives
    the answer (its line, as written), and nothing else of the service changes."""
    root = tmp_path / "platform"
    service = platform_with_a_service(sh, fresh_template, root)
    handler = service / "src" / "orders" / "handlers" / "get_order.py"
    handler.write_text(handler.read_text() + "\n# our own change, kept across updates\n")
    sh.git(root, "add", "-A")
    sh.git(root, "commit", "-q", "-m", "orders, with our change")
    block = next(b for b in docs.blocks(REPO_ROOT / "README.md", "Workers") if "update" in b)
    line = block.strip().replace("uv run copier", sh.bin("copier"), 1)

    sh.run(["bash", "-c", line], service)

    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["workers"] == ["sqs", "schedule"]
    porcelain = ["git", "status", "--porcelain", "--untracked-files=all"]
    status = sh.run(porcelain, root).stdout.splitlines()  # unstripped: " M" keeps its space
    folder = "services/orders/"
    assert sorted(s[3:].removeprefix(folder) for s in status if s.startswith("??")) == [
        "src/orders/handlers/process_order_jobs.py",
        "src/orders/handlers/report_orders.py",
        "tests/test_process_order_jobs.py",
        "tests/test_report_orders.py",
    ]
    assert sorted(s[3:].removeprefix(folder) for s in status if s.startswith(" M")) == [
        ".copier-answers.yml",
        "README.md",  # the workers' table
        "pyproject.toml",  # the queues
        "src/orders/handlers/__init__.py",  # "one module per endpoint or worker"
    ]
    assert "[tool.lambdapress.queues.orders-jobs]" in (service / "pyproject.toml").read_text()
    assert "our own change, kept across updates" in handler.read_text()


def test_an_update_with_a_created_event_makes_the_create_endpoint_publish_it(
    sh: Any, fresh_template: Any, docs: Any, tmp_path: Path
) -> None:
    """README.md, "Events of the create endpoint": a service made without the answer gains
    its event by an update that gives it (its line, as written); the team's change is kept,
    and the service's tests, the new ones among them, pass."""
    root = tmp_path / "platform"
    service = platform_with_a_service(sh, fresh_template, root)
    handler = service / "src" / "orders" / "handlers" / "create_order.py"
    handler.write_text(handler.read_text() + "\n# our own change, kept across updates\n")
    sh.git(root, "add", "-A")
    sh.git(root, "commit", "-q", "-m", "orders, with our change")
    section = "Events of the create endpoint"
    block = next(b for b in docs.blocks(REPO_ROOT / "README.md", section) if "update" in b)
    line = block.strip().replace("uv run copier", sh.bin("copier"), 1)

    sh.run(["bash", "-c", line], service)

    answers = yaml.safe_load((service / ".copier-answers.yml").read_text())
    assert answers["created_event"] == "OrderPlaced"
    porcelain = ["git", "status", "--porcelain", "--untracked-files=all"]
    status = sh.run(porcelain, root).stdout.splitlines()  # unstripped: " M" keeps its space
    folder = "services/orders/"
    assert [s[3:].removeprefix(folder) for s in status if s.startswith("??")] == [
        "src/orders/events.py"
    ]
    assert sorted(s[3:].removeprefix(folder) for s in status if s.startswith(" M")) == [
        ".copier-answers.yml",
        "README.md",  # events.py's line
        "pyproject.toml",  # the topic, boto3
        "src/orders/dependencies.py",  # the sns client
        "src/orders/handlers/create_order.py",
        "src/orders/tracing.py",  # botocore patched: the service now calls SNS
        "tests/conftest.py",  # the fake SNS
        "tests/test_create_order.py",
    ]
    assert "[tool.lambdapress.topics.order-events]" in (service / "pyproject.toml").read_text()
    assert "our own change, kept across updates" in handler.read_text()
    assert "publish_created(sns.get(), ORDER_EVENTS.arn, item)" in handler.read_text()
    command = [sys.executable, "-m", "pytest", "-v", "-p", "no:cacheprovider", "tests"]
    output = sh.run(command, service, env={"PYTHONPATH": str(service / "src")}).stdout
    assert "test_create_order.py::test_a_created_order_is_published PASSED" in output
    assert "test_create_order.py::test_a_refused_order_publishes_nothing PASSED" in output
