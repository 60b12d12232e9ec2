"""The template's configuration, checked without rendering anything."""

import ast
import keyword
import re
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from lambdapress.indexes import uv_credentials as credential_rule
from lambdapress.support.lifetime import STOP_WITH_PARENT

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
    workspace is installed, the offline AWS settings, stopping with nox, reading the indexes
    to give credentials for, finding members with tests) are the same code, so a fix made in
    one place cannot be missing from the other. The credential rule itself differs on purpose:
    this repository's noxfile reads the tool's module, a project's keeps a copy (tested below).
    """
    ours = _definitions(REPO_ROOT / "noxfile.py")
    project = _definitions(REPO_ROOT / "template" / "project" / "noxfile.py")
    shared = ("OFFLINE_AWS", "STOP_WITH_NOX", "sync_workspace", "index_credentials", "members")
    for name in shared:
        assert ours[name] == project[name], f"{name} differs between the two noxfiles"
    sessions = {"lint", "typecheck", "tests", "package", "serve", "invoke", "index"}
    sessions |= {"publish", "models", "bench", "new"}
    assert sessions <= set(project), sorted(sessions - set(project))
    assert sessions <= set(ours), sorted(sessions - set(ours))
    for name in ("package", "serve", "invoke", "index", "publish", "models", "bench", "new"):
        assert ours[name] == project[name], f"session {name} differs between the noxfiles"


def _helpers(path: Path) -> SimpleNamespace:
    """A noxfile's imports, constants and undecorated functions, run without nox: importing
    the two noxfiles whole would register their sessions twice in nox's one registry."""

    def uses_nox(node: ast.AST) -> bool:
        return any(isinstance(n, ast.Name) and n.id == "nox" for n in ast.walk(node))

    def kept(node: ast.stmt) -> bool:
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + [getattr(node, "module", None) or ""]
            return "nox" not in names
        if isinstance(node, ast.FunctionDef):
            return not node.decorator_list
        return isinstance(node, ast.Assign) and not uses_nox(node)

    body = [node for node in ast.parse(path.read_text(encoding="utf-8")).body if kept(node)]
    namespace: dict[str, object] = {"__file__": str(path), "__name__": "noxfile_helpers"}
    exec(compile(ast.Module(body=body, type_ignores=[]), str(path), "exec"), namespace)  # noqa: S102
    return SimpleNamespace(**namespace)


PROJECT_NOXFILE = _helpers(REPO_ROOT / "template" / "project" / "noxfile.py")
OUR_NOXFILE = _helpers(REPO_ROOT / "noxfile.py")

# Index names as uv accepts them and as they are mistyped (non-ASCII letters that upper-case
# to ASCII ones among them), and environments that set some of the variables they imply
# (lambdapress's, uv's, empty values) beside unrelated ones.
index_names = st.lists(
    st.one_of(
        st.sampled_from(["company", "company-pypi", "Company.PyPI", "a-b", "", "-", "straße"]),
        st.text(max_size=12),
    ),
    max_size=4,
)


@st.composite
def indexes_and_environments(draw: st.DrawFn) -> tuple[list[str], dict[str, str]]:
    names = draw(index_names)
    variables = [
        variable(name, part)
        for name in names
        for part in credential_rule.PARTS
        for variable in (credential_rule.lambdapress_variable, credential_rule.uv_variable)
    ]
    chosen = draw(st.lists(st.sampled_from(variables), unique=True) if variables else st.just([]))
    values = st.one_of(st.just(""), st.text(min_size=1, max_size=8))
    environ = {name: draw(values) for name in chosen}
    environ.update(draw(st.dictionaries(st.text(max_size=8), st.text(max_size=4), max_size=3)))
    return names, environ


@given(indexes_and_environments())
@example((["straße"], {"LAMBDAPRESS_INDEX_STRA_E_USERNAME": "u"}))
@example((["\u0131x"], {"LAMBDAPRESS_INDEX__X_PASSWORD": "p"}))  # a dotless i
@example((["", "-"], {"LAMBDAPRESS_INDEX__PASSWORD": "p", "UV_INDEX___USERNAME": "set"}))
@example((["Company.PyPI"], {"LAMBDAPRESS_INDEX_COMPANY_PYPI_USERNAME": "u"}))
@example((["a.b", "a-b"], {"LAMBDAPRESS_INDEX_A_B_USERNAME": "u", "UV_INDEX_A_B_PASSWORD": "set"}))
def test_the_projects_copy_of_the_credential_rule_is_the_tools(
    case: tuple[list[str], dict[str, str]],
) -> None:
    """A project's noxfile cannot import the tool (its session installs it, with these very
    credentials), so it has a copy of `lambdapress.indexes.uv_credentials.uv_credentials`;
    this repository's noxfile loads the tool's file. All three agree on every input."""
    names, environ = case
    expected = credential_rule.uv_credentials(names, environ)
    assert PROJECT_NOXFILE.uv_credentials(names, environ) == expected
    assert OUR_NOXFILE.uv_credentials(names, environ) == expected


def test_the_noxfiles_name_the_tools_variable_for_stopping_with_nox() -> None:
    assert set(PROJECT_NOXFILE.STOP_WITH_NOX) == {STOP_WITH_PARENT}
    assert set(OUR_NOXFILE.STOP_WITH_NOX) == {STOP_WITH_PARENT}
