"""lambdapress-runtime ships in a zip when, and only when, a handler imports it: from the
workspace (this repository's tools/), from a path outside it, or from git (a generated project).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from lambdapress.bundle import package
from lambdapress.bundle.lock import LockedPackage
from lambdapress.bundle.sourced import check_pure, requirement
from lambdapress.errors import BundleError

RUNTIME = Path(__file__).resolve().parents[3] / "lambdapress-runtime"

SERVICE_PYPROJECT = """\
[project]
name = "svc"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["lambdapress-runtime"]

[tool.poetry]
packages = [{ include = "svc", from = "src" }]
{sources}
[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
"""

USES_RUNTIME = """\
from lambdapress_runtime import Container

container = Container()


@container.handler
def handler(event, context):
    return {"ok": True}
"""

PLAIN = "def handler(event, context):\n    return {'ok': True}\n"


def copy_runtime(destination: Path) -> Path:
    shutil.copytree(
        RUNTIME, destination, ignore=shutil.ignore_patterns("tests", "__pycache__", "dist")
    )
    return destination


def make_workspace(root: Path, members: list[str], root_sources: str, service_sources: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / "pyproject.toml").write_text(
        f"[tool.uv.workspace]\nmembers = {json.dumps(members)}\n{root_sources}"
    )
    service = root / "services" / "svc"
    handlers = service / "src" / "svc" / "handlers"
    handlers.mkdir(parents=True)
    (service / "pyproject.toml").write_text(SERVICE_PYPROJECT.replace("{sources}", service_sources))
    (service / "src" / "svc" / "__init__.py").write_text("")
    (handlers / "__init__.py").write_text("")
    (handlers / "with_runtime.py").write_text(USES_RUNTIME)
    (handlers / "plain.py").write_text(PLAIN)
    locked = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert locked.returncode == 0, locked.stderr


def shipped(root: Path, function: str) -> set[str]:
    with zipfile.ZipFile(root / "dist" / "svc" / f"{function}.zip") as archive:
        return {name.split("/")[0] for name in archive.namelist()}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(folder))
    return folder


@pytest.mark.e2e
def test_a_workspace_member_in_tools_ships_from_source_only_where_imported(
    tmp_path: Path, cache: Path
) -> None:
    root = tmp_path / "repo"
    copy_runtime(root / "tools" / "lambdapress-runtime")
    make_workspace(
        root,
        ["services/*", "tools/*"],
        "",
        "\n[tool.uv.sources]\nlambdapress-runtime = { workspace = true }\n",
    )

    manifest = package(root, jobs=2).manifest

    uses = manifest.function("svc.with_runtime")
    assert any(m.startswith("lambdapress_runtime") for m in uses.contents.modules), (
        uses.contents.modules
    )
    assert "lambdapress_runtime" in shipped(root, "with_runtime")
    plain = manifest.function("svc.plain")
    assert not any(m.startswith("lambdapress_runtime") for m in plain.contents.modules)
    assert "lambdapress_runtime" not in shipped(root, "plain")


@pytest.mark.e2e
def test_a_path_source_outside_the_workspace_is_built_into_a_pure_wheel(
    tmp_path: Path, cache: Path
) -> None:
    outside = copy_runtime(tmp_path / "checkout" / "lambdapress-runtime")
    root = tmp_path / "project"
    make_workspace(
        root,
        ["services/*"],
        f'\n[tool.uv.sources]\nlambdapress-runtime = {{ path = "{outside}" }}\n',
        "",
    )

    manifest = package(root, jobs=2).manifest

    version = manifest.function("svc.with_runtime").contents.distributions["lambdapress-runtime"]
    assert version.startswith("0.3.0+")  # the content it was built from, as a local label
    assert "lambdapress_runtime" in shipped(root, "with_runtime")
    assert "lambdapress-runtime" not in manifest.function("svc.plain").contents.distributions
    assert "lambdapress_runtime" not in shipped(root, "plain")

    # Another edit of the checkout is another build (the version did not change).
    init = outside / "src" / "lambdapress_runtime" / "__init__.py"
    init.write_text(init.read_text() + "\n# edited\n")
    again = package(root, jobs=2).manifest.function("svc.with_runtime")
    assert again.contents.distributions["lambdapress-runtime"] != version


@pytest.mark.e2e
def test_a_git_source_is_built_at_the_locked_commit(tmp_path: Path, cache: Path) -> None:
    template = tmp_path / "template"
    copy_runtime(template / "tools" / "lambdapress-runtime")

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=template, capture_output=True, text=True, check=True
        ).stdout.strip()

    git("init", "-q")
    git("add", "-A")
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "runtime")
    git("tag", "v0.3.0")
    commit = git("rev-parse", "HEAD")
    root = tmp_path / "project"
    source = (
        f'{{ git = "{template.as_uri()}", tag = "v0.3.0", '
        'subdirectory = "tools/lambdapress-runtime" }'
    )
    make_workspace(
        root, ["services/*"], f"\n[tool.uv.sources]\nlambdapress-runtime = {source}\n", ""
    )

    manifest = package(root, jobs=2).manifest

    uses = manifest.function("svc.with_runtime")
    assert uses.contents.distributions["lambdapress-runtime"] == f"0.3.0+{commit[:12]}"
    assert "lambdapress_runtime" in shipped(root, "with_runtime")
    assert "lambdapress_runtime" not in shipped(root, "plain")


def test_a_built_wheel_with_compiled_code_is_refused(tmp_path: Path) -> None:
    dist_info = tmp_path / "fast-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: cp311-cp311-linux_x86_64\n")
    package_ = LockedPackage(name="fast", version="1.0", source_kind="git", source="x")
    with pytest.raises(BundleError, match="builds a cp311-cp311-linux_x86_64 wheel"):
        check_pure(tmp_path, package_)
    (dist_info / "WHEEL").write_text("Wheel-Version: 1.0\nTag: py3-none-any\n")
    check_pure(tmp_path, package_)


def test_the_git_requirement_pins_the_locked_commit_and_subdirectory() -> None:
    locked = LockedPackage(
        name="lambdapress-runtime",
        version="0.3.0",
        source_kind="git",
        source="https://github.com/acme/lambdapress?subdirectory=tools%2Flambdapress-runtime"
        "&tag=v0.3.0#0123456789abcdef0123456789abcdef01234567",
        revision="0123456789abcdef0123456789abcdef01234567",
    )
    assert requirement(locked) == (
        "lambdapress-runtime @ git+https://github.com/acme/lambdapress"
        "@0123456789abcdef0123456789abcdef01234567#subdirectory=tools/lambdapress-runtime"
    )
