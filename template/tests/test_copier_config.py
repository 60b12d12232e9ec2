"""The template's configuration, checked without rendering anything."""

import ast
import keyword
import re
import sys
import tomllib
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
CONFIG = yaml.safe_load((REPO_ROOT / "copier.yml").read_text())
KINDS = ("service", "package", "project")


def test_every_kind_has_a_folder_that_records_its_answers() -> None:
    assert CONFIG["_subdirectory"] == "template/{{ kind }}"
    assert set(CONFIG["kind"]["choices"].values()) == set(KINDS)
    for kind in KINDS:
        answers = REPO_ROOT / "template" / kind / "{{_copier_conf.answers_file}}.jinja"
        assert "{{ _copier_answers|to_nice_yaml }}" in answers.read_text(), kind


def test_reserved_names_cover_this_pythons_stdlib_and_keywords() -> None:
    reserved = set(yaml.safe_load(CONFIG["reserved_names"]["default"]))
    stdlib = {
        name
        for name in sys.stdlib_module_names
        if not name.startswith("_") and name.isidentifier() and name.islower()
    }
    keywords = {k for k in keyword.kwlist + keyword.softkwlist if k.islower() and k != "_"}
    missing = sorted((stdlib | keywords) - reserved)
    assert not missing, f"add these to reserved_names in copier.yml: {missing}"


def test_the_project_kind_has_files_of_its_own_not_this_repositorys() -> None:
    """A project gets its own noxfile, workspace root and CI, and lambdapress as a dependency:
    nothing of the project kind points back into this repository (copier follows links)."""
    project = REPO_ROOT / "template" / "project"
    assert [p for p in project.rglob("*") if p.is_symlink()] == []
    assert sorted(p.name for p in (project / "tools").iterdir()) == [".gitkeep"]
    noxfile = (project / "noxfile.py").read_text()
    assert "def template(" not in noxfile and "copier.yml" not in noxfile
    assert "tools/lambdapress" not in noxfile
    assert (project / ".ci" / "run").stat().st_mode & 0o111
    pyproject = (project / "pyproject.toml.jinja").read_text()
    assert not [line for line in pyproject.splitlines() if line.startswith("[tool.lambdapress")]


def test_project_gitignore_is_the_repositorys() -> None:
    # git refuses to read a .gitignore through a symlink, so this one is a copy kept in step.
    project = REPO_ROOT / "template" / "project" / ".gitignore"
    assert project.read_text() == (REPO_ROOT / ".gitignore").read_text()


def test_generated_code_never_ships_secrets_or_caches() -> None:
    excluded = set(CONFIG["_exclude"])
    assert {".git", ".env", ".venv", "__pycache__", ".nox"} <= excluded


def test_the_tool_version_is_the_newest_template_version(current_version: str) -> None:
    """Projects pin lambdapress at the template version and the tool compares its own version
    with the template's: the newest CHANGELOG section names the version being made (released
    or not), tools/lambdapress/pyproject.toml carries it, no migration is newer, and the tests
    tag their template snapshots with it."""
    changelog = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    newest = re.findall(r"^## (v\d+\.\d+\.\d+)\b", changelog, flags=re.MULTILINE)[0]
    tool = tomllib.loads((REPO_ROOT / "tools" / "lambdapress" / "pyproject.toml").read_text())
    assert f"v{tool['project']['version']}" == newest
    assert current_version == newest

    def release(version: str) -> tuple[int, ...]:
        return tuple(int(part) for part in version[1:].split("."))

    migrations = [m["version"] for m in CONFIG["_migrations"] if "version" in m]
    assert all(release(version) <= release(newest) for version in migrations)


def _definitions(path: Path) -> dict[str, str]:
    """Each top-level function and constant of a noxfile, as normalised source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef | ast.If):
            for inner in [node] if isinstance(node, ast.FunctionDef) else node.body:
                if isinstance(inner, ast.FunctionDef):
                    found[inner.name] = ast.unparse(inner)
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            found[node.targets[0].id] = ast.unparse(node)
    return found


def test_the_projects_noxfile_and_this_repositorys_do_not_drift() -> None:
    """This repository's noxfile is the project's plus what only the template needs.

    Every session a project has exists here too, and the helpers both rely on (how the
    workspace is installed, the offline AWS settings, stopping with nox, index credentials)
    are the same code, so a fix made in one place cannot be missing from the other.
    """
    ours = _definitions(REPO_ROOT / "noxfile.py")
    project = _definitions(REPO_ROOT / "template" / "project" / "noxfile.py")
    shared = ("OFFLINE_AWS", "STOP_WITH_NOX", "sync_workspace", "index_credentials")
    for name in shared:
        assert ours[name] == project[name], f"{name} differs between the two noxfiles"
    sessions = {"lint", "typecheck", "tests", "package", "serve", "invoke", "index"}
    sessions |= {"publish", "models", "bench", "new"}
    assert sessions <= set(project), sorted(sessions - set(project))
    assert sessions <= set(ours), sorted(sessions - set(ours))
    for name in ("package", "serve", "invoke", "index", "publish", "models", "bench", "new"):
        assert ours[name] == project[name], f"session {name} differs between the noxfiles"
