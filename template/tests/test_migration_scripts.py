"""The migration scripts of template/migrations, on their own (fast)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

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
