"""End to end, as a user: start a project, add a model library and a service with its own nox
sessions, pass its checks, then roll a new template version in with `copier update`.

Slow (real virtualenvs, real dependency resolution): marked e2e; CI runs it.
"""

import json
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

pytestmark = pytest.mark.e2e

MIGRATION = """
  - version: v0.3.0
    when: "{{ _stage == 'after' }}"
    command:
      - "{{ _copier_python }}"
      - "-c"
      - >-
        import pathlib;
        pathlib.Path('MIGRATED.txt').write_text('{{ _version_from }} -> {{ _version_to }}')
"""


def nox(sh: Any, project: Path, *args: str) -> str:
    result = sh.run([sys.executable, "-m", "nox", *args], cwd=project)
    return result.stdout + result.stderr


def release_v0_3_0(sh: Any, template: Path) -> None:
    """A template change as a maintainer makes one: new content, a migration, a new tag."""
    config = template / "copier.yml"
    text = config.read_text()
    marker = "_message_after_copy:"
    assert "_migrations:\n" in text and marker in text
    config.write_text(text.replace(marker, MIGRATION.lstrip("\n") + marker, 1))
    readme = template / "template" / "service" / "README.md.jinja"
    readme.write_text(readme.read_text() + "\nUpgraded by template v0.3.0.\n")
    tool_readme = template / "tools" / "lambdapress" / "README.md"
    tool_readme.write_text(tool_readme.read_text() + "\nlambdapress as of template v0.3.0.\n")
    sh.git(template, "add", "-A")
    sh.git(template, "commit", "-q", "-m", "v0.3.0: service README note, migration")
    sh.git(template, "tag", "v0.3.0")


def test_a_new_project_grows_passes_its_checks_and_updates(
    fresh_template: Any, sh: Any, tmp_path: Path
) -> None:
    project = tmp_path / "acme-platform"
    fresh_template.copy(project, {"kind": "project", "project_name": "acme-platform"}, cwd=tmp_path)
    sh.git(project, "init", "-q", "-b", "main")
    sh.git(project, "add", "-A")
    sh.git(project, "commit", "-q", "-m", "Start from lambdapress")

    # `nox -s new` finds the template from the project's own answers file.
    nox(sh, project, "-s", "new", "--", "package", "acme-models")
    nox(sh, project, "-s", "new", "--", "service", "orders")
    answers = yaml.safe_load((project / "services" / "orders" / ".copier-answers.yml").read_text())
    assert answers["_src_path"] == str(fresh_template.template)
    assert answers["_commit"] == "v0.2.0"
    assert answers["models_package"] == "acme-models"

    # The tool's own e2e tests already run in this repository: the project runs the rest.
    output = nox(sh, project, "-s", "lint", "typecheck", "package")
    output += nox(sh, project, "-s", "tests", "--", "-m", "not e2e")
    assert "Session tests was successful" in output
    assert (project / "uv.lock").is_file()
    manifest = json.loads((project / "dist" / "manifest.json").read_text())
    assert [f["name"] for f in manifest["functions"]] == [
        "orders.create_order",
        "orders.delete_order",
        "orders.get_order",
        "orders.list_orders",
        "orders.update_order",
    ]
    assert all((project / f["artifact"]).is_file() for f in manifest["functions"])
    sh.git(project, "add", "-A")
    sh.git(project, "commit", "-q", "-m", "Add acme-models and the orders service")

    # The team changes generated code; the template moves on.
    handler = project / "services" / "orders" / "src" / "orders" / "handlers" / "get_order.py"
    handler.write_text(handler.read_text() + "\n# our own change, kept across updates\n")
    sh.git(project, "commit", "-q", "-am", "Our change")
    release_v0_3_0(sh, fresh_template.template)

    fresh_template.update(project / "services" / "orders")
    service = project / "services" / "orders"
    assert "Upgraded by template v0.3.0." in (service / "README.md").read_text()
    assert "our own change, kept across updates" in handler.read_text()
    assert (service / "MIGRATED.txt").read_text() == "v0.2.0 -> v0.3.0"
    assert yaml.safe_load((service / ".copier-answers.yml").read_text())["_commit"] == "v0.3.0"

    sh.git(project, "add", "-A")
    sh.git(project, "commit", "-q", "-m", "Update orders to template v0.3.0")
    fresh_template.update(project)
    assert "as of template v0.3.0" in (project / "tools" / "lambdapress" / "README.md").read_text()
    assert yaml.safe_load((project / ".copier-answers.yml").read_text())["_commit"] == "v0.3.0"

    # Still green after the update, reusing the environments built above.
    assert "Session tests was successful" in nox(
        sh, project, "-R", "-s", "tests", "--", "-m", "not e2e"
    )
