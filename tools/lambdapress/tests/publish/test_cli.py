"""The commands: what they print, exit codes, and that no secret is ever printed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from lambdapress.cli import main
from lambdapress.publish._upload import upload_files
from lambdapress.support.loopback import free_port

SERVICE = """[project]
name = "orders"
version = "0.1.0"
dependencies = ["acme-models", "pydantic>=2.7"]

[tool.poetry]
packages = [{ include = "orders", from = "src" }]

[tool.poetry.dependencies]
acme-models = { path = "../../packages/acme-models", develop = true }

[tool.uv.sources]
acme-models = { workspace = true }
"""


def add_service(root: Path) -> Path:
    folder = root / "services" / "orders"
    (folder / "src" / "orders").mkdir(parents=True)
    (folder / "pyproject.toml").write_text(SERVICE, encoding="utf-8")
    return folder / "pyproject.toml"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_index_list_shows_where_credentials_come_from_not_their_values(
    repo: Path, capsys: pytest.CaptureFixture[str], index_server: Any
) -> None:
    code, out, _ = run(capsys, "index", "list", "--root", str(repo))
    assert code == 0
    lines = out.splitlines()
    assert lines[0].split() == ["name", "kind", "where", "credentials"]
    assert lines[2].split() == [
        "local",
        "upload-api",
        index_server.index_url,
        "$LAMBDAPRESS_INDEX_LOCAL_USERNAME",
        "/",
        "$LAMBDAPRESS_INDEX_LOCAL_PASSWORD",
        "(set)",
    ]
    assert index_server.password not in out


def test_unknown_index_is_an_error(repo: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "publish", "--index", "nope", "--root", str(repo))
    assert (code, out) == (1, "")
    assert err.startswith(f"error: {repo / 'pyproject.toml'}:")
    assert "no index named 'nope' (configured: local)" in err


@pytest.mark.e2e
def test_dry_run_says_what_would_be_published(
    repo: Path, capsys: pytest.CaptureFixture[str], index_server: Any
) -> None:
    code, out, err = run(capsys, "publish", "--dry-run", "--root", str(repo))
    assert code == 0
    # not a terminal: one progress line per step (built, then compared with the index)
    assert err.splitlines() == [
        "[1/2] built acme-models",
        "[2/2] compared acme-models with the index",
    ]
    lines = out.splitlines()
    assert lines[0] == (
        f"index local: {index_server.index_url} (upload {index_server.url}; credentials: "
        "$LAMBDAPRESS_INDEX_LOCAL_USERNAME / $LAMBDAPRESS_INDEX_LOCAL_PASSWORD)"
    )
    # Without --tag, no tag is shown: none will be made.
    assert lines[2].split() == ["package", "version", "status", "since", "files"]
    assert lines[4].split() == ["acme-models", "1.0.0", "publish", "-", "2"]
    assert "acme-models/1.0.0" not in out
    assert "  - first release on index 'local'" in lines
    assert any(line.startswith("  acme_models-1.0.0-py3-none-any.whl  sha256 ") for line in lines)
    assert lines[-1] == "dry run: nothing was uploaded"
    assert index_server.snapshot() == {}
    assert index_server.password not in out


@pytest.mark.e2e
def test_publish_prints_what_it_did_then_refuses_the_same_version(
    repo: Path, capsys: pytest.CaptureFixture[str], index_server: Any
) -> None:
    code, out, err = run(capsys, "publish", "acme-models", "--root", str(repo))
    assert code == 0
    assert "published acme-models 1.0.0 to local" in out
    assert err.splitlines()[-1] == "[1/1] uploaded acme-models 1.0.0"
    assert f"  pip install --index-url {index_server.index_url} acme-models==1.0.0" in out
    before = index_server.snapshot()
    code, out, err = run(capsys, "publish", "acme-models", "--root", str(repo))
    assert code == 1
    assert "acme-models 1.0.0: blocked" in out
    assert err.startswith("[1/2] built acme-models\n[2/2] compared acme-models with the index\n")
    assert err.splitlines()[2].startswith("error: ")
    assert "acme-models 1.0.0 is already on index 'local' (identical files)" in err
    assert "fix: bump `version`" in err
    # Reported once: the plan shows the status, the error the reasons and the fix.
    assert (out + err).count("is already on index 'local'") == 1
    assert (out + err).count("fix: ") == 1
    assert index_server.snapshot() == before


@pytest.mark.e2e
def test_wrong_password_fails_clearly_and_is_never_printed(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    index_server: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    wrong = "not-the-Password-42"
    monkeypatch.setenv("LAMBDAPRESS_INDEX_LOCAL_PASSWORD", wrong)
    code, out, err = run(capsys, "publish", "acme-models", "--root", str(repo))
    assert code == 1
    assert "refused the credentials (user 'publisher'" in err
    assert (
        "fix: export LAMBDAPRESS_INDEX_LOCAL_USERNAME and LAMBDAPRESS_INDEX_LOCAL_PASSWORD" in err
    )
    assert wrong not in out + err
    assert index_server.password not in out + err
    assert index_server.snapshot() == {}


def test_pin_unpin_and_pins_are_aliases_of_models_add_and_models(
    repo: Path, capsys: pytest.CaptureFixture[str], index_server: Any, dists: Any
) -> None:
    pyproject = add_service(repo)
    built = dists("acme-models", "1.0.0")
    upload_files(index_server.resolved(), [built.wheel.path], pyproject)

    code, out, err = run(capsys, "pin", "orders", "acme-models==2.0.0", "--root", str(repo))
    assert code == 1
    assert "acme-models 2.0.0 is not on index 'local' (published: 1.0.0)" in err
    assert pyproject.read_text(encoding="utf-8") == SERVICE

    code, out, _ = run(
        capsys, "pin", "orders", "acme-models==1.0.0", "--dry-run", "--root", str(repo)
    )
    assert code == 0
    assert '+acme-models = { version = "==1.0.0", source = "local" }' in out
    assert out.endswith("dry run: nothing was written\n")
    assert pyproject.read_text(encoding="utf-8") == SERVICE

    code, out, _ = run(
        capsys, "models", "add", "orders", "acme-models==1.0.0", "--index", "local", "--root",
        str(repo),
    )  # fmt: skip
    assert code == 0
    assert "add orders: acme-models==1.0.0 from index 'local'" in out
    assert "accepted: none -> 1.0.0" in out
    assert 'accept_models = { acme-models = "1.0.0" }' in pyproject.read_text(encoding="utf-8")
    for command in ("pins", "models"):
        code, out, _ = run(capsys, command, "--root", str(repo))
        assert out.splitlines()[2].split() == [
            "orders", "acme-models", "pinned", "published", "1.0.0", "local", "1.0.0"
        ]  # fmt: skip

    code, out, _ = run(capsys, "unpin", "orders", "acme-models", "--root", str(repo))
    assert code == 0
    assert "add orders: acme-models from source" in out
    assert pyproject.read_text(encoding="utf-8") == SERVICE
    code, out, _ = run(capsys, "unpin", "orders", "acme-models", "--root", str(repo))
    assert "nothing to change" in out
    code, out, _ = run(capsys, "pins", "--root", str(repo))
    assert out.splitlines()[2].split() == [
        "orders", "acme-models", "workspace", "source", "1.0.0", "-", "-"
    ]  # fmt: skip


def test_a_workspace_package_is_pinned_to_an_exact_version_only(
    repo: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pyproject = add_service(repo)
    code, _, err = run(capsys, "pin", "orders", "acme-models>=1", "--root", str(repo))
    assert code == 1
    assert "only an exact published version can be shipped" in err
    assert "fix: write acme-models==VERSION" in err
    assert pyproject.read_text(encoding="utf-8") == SERVICE


def test_index_serve_runs_until_terminated(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    port = free_port()
    (root / "pyproject.toml").write_text(
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n\n'
        f'[tool.lambdapress.indexes.local]\nupload-url = "http://127.0.0.1:{port}/"\n'
        f'index-url = "http://127.0.0.1:{port}/simple/"\n',
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("LAMBDAPRESS_INDEX_")}
    process = subprocess.Popen(
        [sys.executable, "-m", "lambdapress", "index", "serve", "--root", str(root)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline() for _ in range(5)]
        assert lines[0].startswith(f"local index on http://127.0.0.1:{port}/simple/ (files in ")
        assert str(root / ".cache" / "lambdapress" / "index" / "packages") in lines[0]
        assert lines[1] == "uploads are not authenticated (anyone on this machine may upload)\n"
        assert (
            lines[3]
            == f"install:  pip install --index-url http://127.0.0.1:{port}/simple/ PACKAGE\n"
        )
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/simple/", timeout=5) as answer:
            assert answer.status == 200
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert (process.returncode, out, err) == (143, "", "interrupted by SIGTERM: stopped\n")
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:  # the pypiserver child is gone with it
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1)
        except OSError:
            break
        time.sleep(0.1)
    else:
        pytest.fail("pypiserver still answers after `index serve` stopped")


def _plan(*packages: Any, create_tags: bool) -> Any:
    from lambdapress.publish.plan import PublishPlan

    return PublishPlan(
        index="local",
        index_url="http://127.0.0.1:1/simple/",
        upload_url="http://127.0.0.1:1/",
        credentials_from="none",
        create_tags=create_tags,
        packages=packages,
    )


@pytest.mark.parametrize("create_tags", [False, True])
def test_the_plan_shows_tags_only_when_they_will_be_made(
    capsys: pytest.CaptureFixture[str], create_tags: bool
) -> None:
    from lambdapress.cli._publish import print_plan
    from lambdapress.publish.plan import decide

    from .test_plan import facts

    first = decide(facts(tag_requested=create_tags))
    second = decide(facts(name="billing-models", tag="billing-models/1.1.0"))
    print_plan(_plan(first, second, create_tags=create_tags))
    out = capsys.readouterr().out
    header = out.splitlines()[2].split()
    assert ("tag" in header) is create_tags
    assert ("acme-models/1.1.0" in out) is create_tags
    assert ("billing-models/1.1.0" in out) is create_tags


@pytest.mark.parametrize(
    "changes",
    [
        {"tag_requested": True, "tag_exists": True},  # a stale tag
        {"published": "identical"},  # the same version, identical files
        {"published": "different"},  # the same version, other files
    ],
)
def test_a_refused_publish_says_each_reason_once(
    repo: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, Any],
) -> None:
    """The plan is printed, then the refusal: each reason and the fix appear once in all."""
    from lambdapress.publish import publisher
    from lambdapress.publish.plan import decide

    from .test_plan import SDIST, WHEEL, facts, published

    if changes.get("published") == "identical":
        changes = {"published": tuple(published("1.1.0", WHEEL.sha256, SDIST.sha256))}
    elif changes.get("published") == "different":
        changes = {"published": tuple(published("1.1.0"))}
    blocked = decide(facts(**changes))
    assert blocked.status == "blocked"
    plan = _plan(blocked, create_tags=bool(changes.get("tag_requested")))
    monkeypatch.setattr(publisher, "prepare_publish", lambda *_a, **_k: plan)

    code, out, err = run(capsys, "publish", "acme-models", "--root", str(repo))

    assert code == 1
    assert "acme-models 1.1.0: blocked" in out
    assert err.startswith("error: ")
    for reason in blocked.reasons:
        assert (out + err).count(reason) == 1, reason
    assert (out + err).count("fix: ") == 1
