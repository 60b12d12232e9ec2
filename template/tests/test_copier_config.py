"""The template's configuration, checked without rendering anything."""

import keyword
import sys
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
    reserved = set(CONFIG["reserved_names"]["default"])
    stdlib = {
        name
        for name in sys.stdlib_module_names
        if not name.startswith("_") and name.isidentifier() and name.islower()
    }
    keywords = {k for k in keyword.kwlist + keyword.softkwlist if k.islower() and k != "_"}
    missing = sorted((stdlib | keywords) - reserved)
    assert not missing, f"add these to reserved_names in copier.yml: {missing}"


def test_project_links_point_at_this_repository() -> None:
    """The project kind renders the real tools/, noxfile and workspace root, not copies."""
    project = REPO_ROOT / "template" / "project"
    links = {p.name: p for p in project.iterdir() if p.is_symlink()}
    assert set(links) == {"tools", "noxfile.py", "pyproject.toml", ".ci"}
    for link in links.values():
        target = link.resolve()
        assert target.exists(), link
        assert target.is_relative_to(REPO_ROOT), link
        assert target.parent == REPO_ROOT, link


def test_project_gitignore_is_the_repositorys() -> None:
    # git refuses to read a .gitignore through a symlink, so this one is a copy kept in step.
    project = REPO_ROOT / "template" / "project" / ".gitignore"
    assert project.read_text() == (REPO_ROOT / ".gitignore").read_text()


def test_generated_code_never_ships_secrets_or_caches() -> None:
    excluded = set(CONFIG["_exclude"])
    assert {".git", ".env", ".venv", "__pycache__", ".nox"} <= excluded
