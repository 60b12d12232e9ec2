"""How a project names the lambdapress it depends on, and the migration off the copied tool."""

from __future__ import annotations

import importlib.util
import os
import secrets
import subprocess
import sys
import tomllib
from pathlib import Path
from types import ModuleType
from typing import Any

import jinja2
import pytest
from pydantic import SecretStr

from lambdapress.publish.pypiserver import ServerPlan, start_server
from lambdapress.support.loopback import free_port

MIGRATIONS = Path(__file__).resolve().parents[1] / "migrations"
PYPROJECT_TEMPLATE = Path(__file__).resolve().parents[1] / "project" / "pyproject.toml.jinja"
HASH = "0123456789abcdef0123456789abcdef01234567"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, MIGRATIONS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def rendered_pin(
    src_path: str, commit: str | None, distribution: str = "lambdapress"
) -> dict[str, str]:
    """The root pyproject's source of `distribution` for what copier recorded, rendered by
    Jinja as copier does (without cloning anything, so remote URLs can be checked too)."""
    environment = jinja2.Environment(keep_trailing_newline=True, autoescape=False)  # noqa: S701
    text = environment.from_string(PYPROJECT_TEMPLATE.read_text()).render(
        project_name="p",
        _copier_answers={"_src_path": src_path, "_commit": commit},
        _copier_conf={"vcs_ref_hash": HASH if commit else None},
    )
    pin: dict[str, str] = tomllib.loads(text)["tool"]["uv"]["sources"][distribution]
    return pin


@pytest.mark.parametrize(
    ("src_path", "commit"),
    [
        ("gh:acme/lambdapress", "v1.2.3"),
        ("https://git.acme.invalid/lambdapress.git", "v1.2.3-4-g0123456"),
        ("/srv/lambdapress", None),
    ],
)
def test_the_runtime_comes_from_where_the_tool_comes_from(
    src_path: str, commit: str | None
) -> None:
    tool = rendered_pin(src_path, commit)
    runtime = rendered_pin(src_path, commit, "lambdapress-runtime")
    if "path" in tool:
        assert runtime == {"path": tool["path"] + "-runtime"}
    else:
        assert runtime == {**tool, "subdirectory": "tools/lambdapress-runtime"}


@pytest.mark.parametrize(
    ("src_path", "url"),
    [
        ("gh:acme/lambdapress", "https://github.com/acme/lambdapress"),
        ("gl:acme/lambdapress", "https://gitlab.com/acme/lambdapress"),
        ("https://git.acme.invalid/lambdapress.git", "https://git.acme.invalid/lambdapress.git"),
        ("git+https://git.acme.invalid/lambdapress", "https://git.acme.invalid/lambdapress"),
        ("git@github.com:acme/lambdapress.git", "ssh://git@github.com/acme/lambdapress.git"),
        ("/srv/templates/lambdapress", "file:///srv/templates/lambdapress"),
    ],
)
def test_every_form_of_template_source_becomes_a_git_url_uv_takes(src_path: str, url: str) -> None:
    assert rendered_pin(src_path, "v1.2.3") == {
        "git": url,
        "tag": "v1.2.3",
        "subdirectory": "tools/lambdapress",
    }


def test_a_commit_after_a_tag_is_pinned_by_hash_and_a_plain_folder_by_path() -> None:
    src = "https://git.acme.invalid/lambdapress.git"
    assert rendered_pin(src, "v1.2.3-4-g0123456")["rev"] == HASH
    assert rendered_pin("/srv/lambdapress", None) == {"path": "/srv/lambdapress/tools/lambdapress"}


def test_an_untagged_template_commit_is_pinned_by_its_hash(
    fresh_template: Any, sh: Any, tmp_path: Path
) -> None:
    template = fresh_template.template
    (template / "NOTES.md").write_text("after the release\n")
    sh.git(template, "add", "NOTES.md")
    sh.git(template, "commit", "-q", "-m", "after v0.4.0")
    head = sh.git(template, "rev-parse", "HEAD")
    project = tmp_path / "p"
    data = {"kind": "project", "project_name": "p"}
    fresh_template.copy(project, data, cwd=tmp_path, extra=["--vcs-ref", "HEAD"])
    pin = tomllib.loads((project / "pyproject.toml").read_text())["tool"]["uv"]["sources"]
    assert pin["lambdapress"] == {
        "git": f"file://{template}",
        "rev": head,
        "subdirectory": "tools/lambdapress",
    }


def test_a_relative_template_path_is_refused_with_the_fix(
    fresh_template: Any, sh: Any, tmp_path: Path
) -> None:
    """uv cannot take a relative git path, and copier stores the path as given."""
    command = [sh.bin("copier"), "copy", "--trust", "--defaults", "--quiet"]
    command += ["--data", "kind=project", "--data", "project_name=p", ".", str(tmp_path / "p")]
    result = sh.run(command, fresh_template.template, check=False)
    assert result.returncode == 1
    assert "must be given as a URL or an absolute path, not '.'" in result.stderr
    assert 'copier copy --trust "$PWD" ../p' in result.stderr
    assert not (tmp_path / "p" / "pyproject.toml").exists()


def test_v0_3_0_removes_only_the_copied_tool(tmp_path: Path) -> None:
    migration = load("v0_3_0_project_tool")
    copied = tmp_path / "tools" / "lambdapress"
    (copied / "src" / "lambdapress" / "__pycache__").mkdir(parents=True)
    (copied / "pyproject.toml").write_text('[project]\nname = "lambdapress"\nversion = "0.1.0"\n')
    (copied / "src" / "lambdapress" / "cli.py").write_text("# edited by the team\n")
    ours = tmp_path / "tools" / "release-notes"
    (ours / "src" / "release_notes").mkdir(parents=True)
    (ours / "pyproject.toml").write_text('[project]\nname = "release-notes"\n')

    assert migration.migrate(tmp_path) == copied
    assert not copied.exists()
    assert (ours / "pyproject.toml").is_file()
    assert migration.migrate(tmp_path) is None  # a second run changes nothing


def test_v0_3_0_removes_what_copier_update_leaves_of_the_copied_tool(tmp_path: Path) -> None:
    """copier deletes the template's files of tools/lambdapress; caches and files the team
    added stay behind, and uv would refuse a workspace member without a pyproject.toml."""
    migration = load("v0_3_0_project_tool")
    leftovers = tmp_path / "tools" / "lambdapress" / "tests" / "__pycache__"
    leftovers.mkdir(parents=True)
    (leftovers / "test_cli.cpython-311.pyc").write_bytes(b"\0")
    assert migration.migrate(tmp_path) == tmp_path / "tools" / "lambdapress"
    assert not (tmp_path / "tools" / "lambdapress").exists()


def test_v0_3_0_keeps_a_team_tool_that_happens_to_be_called_lambdapress(tmp_path: Path) -> None:
    migration = load("v0_3_0_project_tool")
    theirs = tmp_path / "tools" / "lambdapress"
    (theirs / "src" / "lambdapress").mkdir(parents=True)
    (theirs / "pyproject.toml").write_text('[project]\nname = "acme-lambdapress-plugins"\n')
    assert migration.migrate(tmp_path) is None
    assert (theirs / "pyproject.toml").is_file()


def test_relock_leaves_a_project_without_a_lock_alone(tmp_path: Path, monkeypatch: Any) -> None:
    relock = load("relock")
    monkeypatch.chdir(tmp_path)
    assert relock.main() == 0
    assert not (tmp_path / "uv.lock").exists()


def test_relock_hands_lambdapress_index_credentials_to_uv(tmp_path: Path, monkeypatch: Any) -> None:
    relock = load("relock")
    config = tmp_path / "pyproject.toml"
    config.write_text('[[tool.uv.index]]\nname = "company-pypi"\nurl = "https://x.invalid/"\n')
    monkeypatch.setenv("LAMBDAPRESS_INDEX_COMPANY_PYPI_USERNAME", "reader")
    monkeypatch.setenv("LAMBDAPRESS_INDEX_COMPANY_PYPI_PASSWORD", "pw")
    monkeypatch.setenv("UV_INDEX_COMPANY_PYPI_PASSWORD", "already-set")
    assert relock.index_credentials(config) == {"UV_INDEX_COMPANY_PYPI_USERNAME": "reader"}


@pytest.mark.e2e
def test_a_project_takes_lambdapress_from_a_company_index_as_the_readme_says(
    fresh_template: Any, sh: Any, docs: Any, tmp_path: Path
) -> None:
    """The README's block run as written (`git checkout`, `uv build --package lambdapress`,
    `uvx twine upload`) against a real index, then the project's dev dependency and source
    pointed at the index; uv locks the published tool."""
    template = fresh_template.template
    readme = Path(__file__).resolve().parents[2] / "README.md"
    block = next(
        b for b in docs.blocks(readme, "How a generated project gets the tool") if "twine" in b
    )
    password = secrets.token_urlsafe(12)
    plan = ServerPlan(
        port=free_port(),
        packages_dir=tmp_path / "index" / "packages",
        htpasswd=tmp_path / "index" / "htpasswd",
        username="publisher",
        password=SecretStr(password),
        fallback=False,
    )
    with start_server(plan) as server:
        script = docs.script(
            block.replace("https://pypi.example.com/", server.url),
            **{"release tag or commit": sh.git(template, "rev-parse", "HEAD")},
        )
        path = os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]])
        # Credentials through twine's variables: a token may start with "-", which its
        # argparse would read as an option, and the command line is visible to every user.
        result = subprocess.run(
            ["bash", "-c", script],
            cwd=template,
            env={
                **os.environ,
                "PATH": path,
                "TWINE_USERNAME": "publisher",
                "TWINE_PASSWORD": password,
                "TWINE_NON_INTERACTIVE": "1",
            },
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        built = template / "dist" / "lambdapress"
        assert sorted(p.name for p in built.iterdir() if p.name != ".gitignore") == [
            "lambdapress-0.4.0-py3-none-any.whl",
            "lambdapress-0.4.0.tar.gz",
        ]

        project = tmp_path / "p"
        fresh_template.copy(project, {"kind": "project", "project_name": "p"}, cwd=tmp_path)
        config = project / "pyproject.toml"
        text = config.read_text()
        git_pin = next(line for line in text.splitlines() if line.startswith("lambdapress = {"))
        text = text.replace(git_pin, 'lambdapress = { index = "company" }')
        text = text.replace('    "lambdapress",\n', '    "lambdapress==0.4.0",\n')
        text += f'\n[[tool.uv.index]]\nname = "company"\nurl = "{server.url}simple/"\n'
        text += "explicit = true\n"
        config.write_text(text)
        sh.run([sh.bin("uv"), "lock"], project)
    lock = tomllib.loads((project / "uv.lock").read_text())
    tool = next(p for p in lock["package"] if p["name"] == "lambdapress")
    assert tool["version"] == "0.4.0"
    assert tool["source"] == {"registry": f"{server.url}simple/"}
