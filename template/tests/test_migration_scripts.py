"""The migration scripts of template/migrations, on their own (fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

SCRIPTS = Path(__file__).resolve().parents[1] / "migrations"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_v0_2_0_renames_the_fixture_and_its_keywords_only_inside_its_calls(tmp_path: Path) -> None:
    migration = load("v0_2_0_service_tests")
    tests = tmp_path / "tests"
    tests.mkdir()
    (tests / "test_a.py").write_text(
        "def test(http_event, lambda_context):\n"
        '    e = http_event("POST", "/x", body=make(body=1), headers={"a": "b"})\n'
        '    f = http_event("PUT", "/x", raw_body=b"\\x00")\n'
        "    other(body=2)\n"
    )
    untouched = tests / "test_b.py"
    untouched.write_text("def test():\n    other(body=2)\n")
    before = untouched.stat().st_mtime_ns

    changed = migration.migrate(tests)

    assert changed == [tests / "test_a.py"]
    assert (tests / "test_a.py").read_text() == (
        "def test(http_api_event, lambda_context):\n"
        '    e = http_api_event("POST", "/x", json_body=make(body=1), headers={"a": "b"})\n'
        '    f = http_api_event("PUT", "/x", body=b"\\x00")\n'
        "    other(body=2)\n"
    )
    assert untouched.stat().st_mtime_ns == before


def test_storage_answer_keeps_an_older_service_in_memory(tmp_path: Path) -> None:
    migration = load("storage_answer")
    answers = tmp_path / ".copier-answers.yml"
    answers.write_text("_commit: v0.3.0\n_src_path: /t\nendpoints:\n- list\nkind: service\n")

    assert migration.add_storage_answer(answers) is True
    assert answers.read_text().splitlines()[-1] == "storage: memory"
    assert migration.add_storage_answer(answers) is False  # once only


def test_storage_answer_leaves_an_answered_service_and_other_kinds_alone(tmp_path: Path) -> None:
    migration = load("storage_answer")
    service = tmp_path / "service.yml"
    service.write_text("kind: service\nstorage: postgres\n")
    package = tmp_path / "package.yml"
    package.write_text("kind: package\npackage_name: m\n")

    assert migration.add_storage_answer(service) is False
    assert migration.add_storage_answer(package) is False
    assert service.read_text() == "kind: service\nstorage: postgres\n"


def test_storage_answer_reads_the_answers_file_copier_names(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """copier passes `{{ _copier_conf.answers_file }}`: a template may rename the file."""
    migration = load("storage_answer")
    (tmp_path / "answers.yml").write_text("kind: service\nresource: orders\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("sys.argv", ["storage_answer.py", "answers.yml"])
    assert migration.main() == 0
    assert (tmp_path / "answers.yml").read_text().endswith("storage: memory\n")


WORKSPACE = '[tool.uv.workspace]\nmembers = ["packages/*", "services/*"]\n'
CONFLICT = "<<<<<<< before updating\nmemory = 512\n=======\nmemory = 256\n>>>>>>> after updating\n"


def workspace(root: Path) -> Path:
    (root / ".git").mkdir(parents=True)
    (root / "pyproject.toml").write_text(WORKSPACE)
    (root / "uv.lock").write_text("version = 1\n")
    service = root / "services" / "orders"
    service.mkdir(parents=True)
    (service / "pyproject.toml").write_text('[project]\nname = "orders"\n')
    return service


def test_relock_finds_the_workspace_root_from_a_member_and_stops_at_the_repository(
    tmp_path: Path,
) -> None:
    relock = load("relock")
    service = workspace(tmp_path / "platform")
    assert relock.workspace_root(service) == tmp_path / "platform"
    (tmp_path / "platform" / "uv.lock").unlink()
    (tmp_path / "uv.lock").write_text("")  # outside the repository: not this workspace's
    assert relock.workspace_root(service) is None


def test_relock_names_every_conflicted_file_uv_would_read_and_runs_nothing(
    tmp_path: Path, monkeypatch: Any
) -> None:
    relock = load("relock")
    root = tmp_path / "platform"
    service = workspace(root)
    (service / "pyproject.toml").write_text('[project]\nname = "orders"\n' + CONFLICT)
    (root / "pyproject.toml.rej").write_text("what could not be applied\n")
    monkeypatch.setattr(relock.shutil, "which", lambda name: None)  # no git, no uv

    status, message = relock.relock(service)

    assert status == 1
    assert "  services/orders/pyproject.toml (line 3)\n" in message
    assert "  pyproject.toml.rej\n" in message
    assert message.endswith("uv.lock was not changed.")
    assert (root / "uv.lock").read_text() == "version = 1\n"


def test_relock_without_uv_stops_and_says_what_to_run(tmp_path: Path, monkeypatch: Any) -> None:
    relock = load("relock")
    service = workspace(tmp_path / "platform")
    monkeypatch.setattr(relock.shutil, "which", lambda name: None)
    status, message = relock.relock(service)
    assert status == 1
    assert f"install it, then run `uv lock` in {tmp_path / 'platform'}" in message


def test_relock_leaves_a_workspace_that_was_never_locked_alone(tmp_path: Path) -> None:
    relock = load("relock")
    service = workspace(tmp_path / "platform")
    (tmp_path / "platform" / "uv.lock").unlink()
    assert relock.relock(service) == (0, "")


def test_relock_reads_the_credential_rule_from_the_template_clone_it_runs_from() -> None:
    relock = load("relock")
    assert relock.CREDENTIAL_RULE.is_file()
    assert relock.credential_rule().uv_variable("company", "PASSWORD") == (
        "UV_INDEX_COMPANY_PASSWORD"
    )


def test_relock_in_a_clone_without_the_tools_credential_rule_says_what_to_do(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """A clone missing tools/lambdapress (damaged, or cut down by hand) stops the relock with
    what to run instead, and only when there is an index to give credentials for."""
    clone = tmp_path / "clone" / "template" / "migrations"
    clone.mkdir(parents=True)
    (clone / "relock.py").write_text((SCRIPTS / "relock.py").read_text())
    spec = importlib.util.spec_from_file_location("relock_in_clone", clone / "relock.py")
    assert spec is not None and spec.loader is not None
    relock = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(relock)
    root = tmp_path / "platform"
    service = workspace(root)
    monkeypatch.setattr(relock.shutil, "which", lambda name: "/bin/false" if name == "uv" else None)
    assert relock.index_credentials(root / "pyproject.toml") == {}  # no index: no rule needed

    with (root / "pyproject.toml").open("a") as pyproject:
        pyproject.write('\n[[tool.uv.index]]\nname = "company"\nurl = "https://x.invalid/"\n')
    status, message = relock.relock(service)

    assert status == 1
    assert str(tmp_path / "clone" / "tools/lambdapress/src/lambdapress/indexes") in message
    assert f"run `uv lock` in {root} yourself" in message
    assert (root / "uv.lock").read_text() == "version = 1\n"
