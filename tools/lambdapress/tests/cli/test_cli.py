"""The command line: what it prints, and exit codes (1 for user mistakes, no tracebacks)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from lambdapress import __version__
from lambdapress.cli import main
from lambdapress.support import files
from lambdapress.support.lifetime import descendants, running


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
        "  answers:",
        "    kind: service",
        "    models_package: acme-models",
        "    resource: payments",
        "dry run: nothing was created",
    ]
    assert not (builder.root / "services" / "payments").exists()


def test_new_dry_run_shows_a_published_library_as_its_answers_read(
    builder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--models Billing.Models==1.2`: the normalised name, and the specifier as itself (not
    `models_spec===1.2`)."""
    builder.answers("gh:acme/template", "v0.4.0")
    argv = ["new", "service", "payments", "--models", "Billing.Models==1.2", "--index", "company"]
    assert main([*argv, "--dry-run", "--root", str(builder.root)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[3:9] == [
        "  answers:",
        "    kind: service",
        "    models_index: company",
        "    models_package: billing-models",
        "    models_source: index",
        "    models_spec: ==1.2",
    ]
    assert not any("===" in line for line in out)


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
    assert "\n    extra: 1\n    kind: package\n    package_name: billing-models\n" in out
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


def _broken_command(args: Any) -> int:
    raise KeyError("boom")


def test_a_bug_is_an_internal_error_with_a_log_not_a_traceback(
    builder: Any, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    builder.package("acme-models")
    monkeypatch.delenv("LAMBDAPRESS_CACHE", raising=False)
    monkeypatch.delenv("LAMBDAPRESS_DEBUG", raising=False)
    monkeypatch.setattr("lambdapress.cli._workspace._cmd_workspace", _broken_command)

    assert main(["workspace", "--root", str(builder.root)]) == 2

    err = capsys.readouterr().err
    lines = err.splitlines()
    assert lines[0] == f"error: internal error in lambdapress {__version__}: KeyError: 'boom'"
    assert lines[1].startswith("details: ")
    assert "Traceback" not in err
    log = Path(lines[1].removeprefix("details: "))
    assert log.parent == builder.root.resolve() / ".cache" / "lambdapress" / "logs"
    text = log.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in text
    assert "in _broken_command" in text and "KeyError: 'boom'" in text
    assert f"command: lambdapress workspace --root {builder.root}" in text


def test_outside_a_workspace_the_log_goes_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import tempfile

    monkeypatch.delenv("LAMBDAPRESS_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr("lambdapress.cli._workspace._cmd_workspace", _broken_command)

    assert main(["workspace"]) == 2

    details = capsys.readouterr().err.splitlines()[1]
    log = Path(details.removeprefix("details: "))
    assert log.parent == tmp_path / "tmp" / "lambdapress-logs"
    assert "KeyError: 'boom'" in log.read_text(encoding="utf-8")


def test_lambdapress_debug_lets_the_bug_propagate(
    builder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    builder.package("acme-models")
    monkeypatch.setenv("LAMBDAPRESS_DEBUG", "1")
    monkeypatch.setattr("lambdapress.cli._workspace._cmd_workspace", _broken_command)
    with pytest.raises(KeyError, match="boom"):
        main(["workspace", "--root", str(builder.root)])


def test_a_user_mistake_stays_exit_1_without_a_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["workspace", "--root", str(tmp_path / "nowhere")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "details:" not in err and "internal" not in err


# -- `lambdapress package` stopped by a signal in the middle of a build -----------------------
GREET = {
    "services/shop/src/shop/handlers/greet.py": "def handler(event, context):\n    return 1\n",
}

# A python3.11 that answers the bundler's version probe with its own path, so the bundler picks
# it as the bytecode compiler; compiling then marks that it started and blocks: the build is
# caught, deterministically, with its temporary folder in use.
STALLING_COMPILER = """#!/bin/sh
if [ "$1" = "-I" ] && [ "$3" = "-c" ]; then
  "{python}" -I -S -c "$4" | sed "3s|.*|$0|"
  exit
fi
: > "$LAMBDAPRESS_TEST_MARKER"
exec sleep 120
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_package_stopped_mid_build_exits_and_leaves_no_folder_or_child(
    tmp_path: Path,
    bare_workspace: Callable[[dict[str, str]], Path],
    signum: signal.Signals,
    code: int,
) -> None:
    root = bare_workspace(GREET)
    bin_dir, scratch, marker = tmp_path / "bin", tmp_path / "tmpdir", tmp_path / "compiling"
    bin_dir.mkdir()
    scratch.mkdir()
    compiler = bin_dir / "python3.11"
    compiler.write_text(STALLING_COMPILER.format(python=sys.executable), encoding="utf-8")
    compiler.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "TMPDIR": str(scratch),
        "LAMBDAPRESS_CACHE": str(tmp_path / "cache"),
        "LAMBDAPRESS_TEST_MARKER": str(marker),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "package", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN),
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline, "the build never reached the compiler"
            time.sleep(0.02)
        children = descendants(process.pid)
        # builds (and the run's one bytecode compilation) are staged inside the cache, never
        # the temp folder, as hidden temporaries
        staged = [tmp_path / "cache" / "artifacts", tmp_path / "cache" / "entries/v1/derived"]
        assert children and [p for s in staged for p in s.glob(f"{files.TEMPORARY_PREFIX}*")]

        process.send_signal(signum)

        _, err = process.communicate(timeout=60)
        assert process.returncode == code
        assert err.endswith(f"interrupted by {signum.name}: stopped\n")
        assert [pid for pid in children if running(pid)] == []
        assert list(scratch.iterdir()) == []
        assert [p for s in staged for p in s.glob(f"{files.TEMPORARY_PREFIX}*")] == []
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
