"""The command line: what it prints, and exit codes (1 for user mistakes, no tracebacks)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdapress import __version__
from lambdapress.cli import main


def test_version_names_the_tool_and_the_template_version_of_the_project(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == (
        f"lambdapress {__version__} (template: not a generated project)\n"
    )
    (tmp_path / ".copier-answers.yml").write_text(
        "_commit: v0.2.0\n_src_path: gh:acme/lambdapress\nkind: project\n", encoding="utf-8"
    )
    (tmp_path / "services").mkdir()
    monkeypatch.chdir(tmp_path / "services")
    assert main(["--version"]) == 0
    assert capsys.readouterr().out == f"lambdapress {__version__} (template v0.2.0)\n"


def test_no_command_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "choose a command" in capsys.readouterr().err


def test_help_exits_zero(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    assert "workspace" in capsys.readouterr().out


def test_invalid_kind_is_a_usage_error(builder: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["new", "lambda", "x", "--root", str(builder.root)]) == 2
    assert "invalid choice" in capsys.readouterr().err


def test_workspace_prints_both_tables(builder: Any, capsys: pytest.CaptureFixture[str]) -> None:
    builder.answers("gh:acme/template", "v0.4.0")
    builder.package("acme-models", version="1.2.3")
    builder.service("orders", settings='runtime = "python3.11"\nmemory = 512\n')
    builder.service("payments", settings='architecture = "arm64"\ntimeout = 30\n')
    assert main(["workspace", "--root", str(builder.root / "services" / "orders")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert f"workspace: {builder.root.resolve()}" in lines
    assert "template:  gh:acme/template @ v0.4.0" in lines
    packages = lines.index("packages")
    assert lines[packages + 1].split() == ["name", "version", "path"]
    assert set(lines[packages + 2]) == {"-", " "}
    assert lines[packages + 3].split() == ["acme-models", "1.2.3", "packages/acme-models"]
    services = lines.index("services")
    assert lines[services + 1].split() == [
        "name",
        "runtime",
        "architecture",
        "memory",
        "timeout",
        "path",
    ]
    assert lines[services + 3].split() == [
        "orders",
        "python3.11",
        "x86_64",
        "512",
        "10",
        "services/orders",
    ]
    assert lines[services + 4].split() == [
        "payments",
        "python3.12",
        "arm64",
        "256",
        "30",
        "services/payments",
    ]


def test_workspace_without_members(builder: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "--root", str(builder.root)]) == 0
    out = capsys.readouterr().out
    assert out.count("(none)") == 2
    assert "template:" not in out


def test_user_mistake_is_one_error_line_and_exit_1(
    builder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.service("orders", settings="memory = 64\n")
    assert main(["workspace", "--root", str(builder.root)]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("error: ")
    assert "pyproject.toml:" in captured.err
    assert "tool.lambdapress.memory" in captured.err
    assert "fix: use a whole number of MB from 128 to 10240" in captured.err
    assert "Traceback" not in captured.err


def test_outside_any_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["workspace", "--root", str(tmp_path)]) == 1
    assert "no uv workspace found" in capsys.readouterr().err


def test_new_dry_run_prints_the_plan_and_creates_nothing(
    builder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.answers("gh:acme/template", "v0.4.0")
    builder.package("acme-models")
    code = main(["new", "service", "payments", "--dry-run", "--root", str(builder.root)])
    assert code == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "create service 'payments' in services/payments",
        "  template: gh:acme/template",
        "  version:  v0.4.0",
        "  answers:  kind=service, models_package=acme-models, resource=payments",
        "dry run: nothing was created",
    ]
    assert not (builder.root / "services" / "payments").exists()


def test_new_service_runs_copier_and_prints_next_steps(
    builder: Any, template_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    builder.package("acme-models")
    builder.package("billing-models")
    argv = ["new", "service", "payments", "--models", "billing-models", "--root", str(builder.root)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "create service 'payments' in services/payments" in out
    assert f"  template: {template_repo}" in out
    assert "created services/payments" in out
    assert "next steps:" in out
    assert "uv sync --all-packages" in out
    answers_file = builder.root / "services" / "payments" / ".copier-answers.yml"
    answers = yaml.safe_load(answers_file.read_text(encoding="utf-8"))
    assert answers["models_package"] == "billing-models"
    assert answers["_commit"] == "v0.1.0"


def test_new_package_with_data(
    builder: Any, template_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    argv = ["new", "package", "billing-models", "--data", "extra=1", "--root", str(builder.root)]
    assert main(argv) == 0
    out = capsys.readouterr().out
    assert "answers:  extra=1, kind=package, package_name=billing-models" in out
    assert "lambdapress new service NAME --models billing-models" in out
    assert (builder.root / "packages" / "billing-models" / "pyproject.toml").is_file()


def test_new_copier_failure_is_exit_1_and_leaves_nothing(
    builder: Any, template_repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.answers(str(template_repo), "v0.1.0")
    builder.package("acme-models")
    assert main(["new", "service", "bad_one", "--root", str(builder.root)]) == 1
    captured = capsys.readouterr()
    assert "create service 'bad_one'" in captured.out
    assert captured.err.startswith("error: ")
    assert "Validation error for question 'resource'" in captured.err
    assert not (builder.root / "services" / "bad_one").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--data", "oops"], "is not KEY=VALUE"),
        (["--models", "a", "--data", "models_package=b"], "disagree"),
        (["--models", "nope"], "no package 'nope'"),
    ],
)
def test_new_argument_mistakes(
    builder: Any, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    builder.answers("gh:acme/template")
    builder.package("acme-models")
    assert main(["new", "service", "payments", *extra, "--root", str(builder.root)]) == 1
    assert message in capsys.readouterr().err
