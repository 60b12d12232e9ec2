"""The templates of the example platform and of a rendered project pass cfn-lint.

Each is packaged for real (`lambdapress package`), its template written by the real command
(`lambdapress template --stage dev`), and the file checked by the real linter's command line,
informational checks included and nothing ignored. The example platform's copy declares
storage for both services first (DynamoDB tables for customers, PostgreSQL for orders), unless
they already do, so the tables, their grants and the database URL's reference are linted too;
its SAM template (`--format sam`) is linted as well, and turned into CloudFormation by the SAM
translator with the same functions and routes.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from formats.rich import translate

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.support.files import cache_folder

pytestmark = pytest.mark.e2e

REPO_ROOT = Path(__file__).resolve().parents[2]
README = REPO_ROOT / "README.md"
TEMPLATE_SECTION = "The CloudFormation template: `lambdapress template --stage dev`"
PARTS = ("pyproject.toml", "uv.lock", "packages", "services", "tools")
IGNORE = shutil.ignore_patterns(".venv", "__pycache__", ".pytest_cache", ".mypy_cache", "dist")
STORAGE = {
    "customers": '[tool.lambdapress.storage]\nkind = "dynamodb"\n'
    '[tool.lambdapress.storage.tables.customers]\npartition_key = "customer_id"\n',
    "orders": '[tool.lambdapress.storage]\nkind = "postgres"\n',
}
CAPACITY = (
    "[tool.lambdapress.functions.get_order]\nwarm_every_minutes = 5\nprovisioned_concurrency = 1\n"
)


@pytest.fixture
def shared_wheels() -> Iterator[None]:
    """Builds take wheels from the repository's cache (the bundler verifies what it reads)."""
    previous = os.environ.get("LAMBDAPRESS_CACHE")
    os.environ["LAMBDAPRESS_CACHE"] = str(cache_folder(REPO_ROOT))
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("LAMBDAPRESS_CACHE", None)
        else:
            os.environ["LAMBDAPRESS_CACHE"] = previous


def write_template(
    root: Path, capsys: pytest.CaptureFixture[str], output_format: str = "cloudformation"
) -> tuple[Path, dict[str, Any]]:
    """`lambdapress template --stage dev --format F` in `root`: the file it wrote, parsed."""
    output = root / "dist" / ("stack.json" if output_format == "cloudformation" else "sam.yaml")
    arguments = ["--stage", "dev", "--format", output_format, "--output", str(output)]
    code = main(["template", *arguments, "--root", str(root)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return output, yaml.safe_load(output.read_text())


def lint(sh: Any, template: Path) -> None:
    """cfn-lint's command line, every check on; any finding fails with what it said."""
    result = sh.run(
        [
            sh.bin("cfn-lint"),
            "--include-checks",
            "I",
            "--regions",
            "us-east-1",
            "--",
            str(template),
        ],
        cwd=template.parent,
        check=False,
    )
    assert (result.returncode, result.stdout, result.stderr) == (0, "", "")


def run_readme_template_commands(
    root: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """README.md's `lambdapress template` commands, run in `root` as written.

    Each prints exactly the lines the README shows after it; the tool's README lists the same.
    """
    text = README.read_text(encoding="utf-8")
    section = text[text.index(f"### {TEMPLATE_SECTION}") :]
    block = next(b for b in re.findall(r"^```console\n(.*?)^```$", section, re.M | re.S))
    shown = re.findall(r"^\$ (lambdapress template [^\n]*)\n((?:(?!\$ )[^\n]*\n)*)", block, re.M)
    assert [command for command, _ in shown] == [
        "lambdapress template --stage dev",
        "lambdapress template --stage dev --format sam",
    ]
    tool_readme = (REPO_ROOT / "tools" / "lambdapress" / "README.md").read_text(encoding="utf-8")
    listed = re.findall(r"^\$ (lambdapress template [^#\n]*?) *(?:#.*)?$", tool_readme, re.M)
    assert listed == [command for command, _ in shown]  # the tool's README lists the same
    monkeypatch.chdir(root)
    for command, output in shown:
        assert main(shlex.split(command)[1:]) == 0, command
        assert capsys.readouterr().out == output, command


def test_the_example_platform_s_template_lints_clean(
    tmp_path: Path,
    sh: Any,
    shared_wheels: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = tmp_path / "platform"
    root.mkdir()
    for part in PARTS:
        source = REPO_ROOT / part
        if source.is_dir():
            shutil.copytree(source, root / part, ignore=IGNORE)
        else:
            shutil.copy2(source, root / part)
    for name, storage in STORAGE.items():
        pyproject = root / "services" / name / "pyproject.toml"
        text = pyproject.read_text()
        if "[tool.lambdapress.storage]" not in text:
            pyproject.write_text(text.replace("[build-system]", f"{storage}\n[build-system]"))
    package(root)
    run_readme_template_commands(root, capsys, monkeypatch)

    orders = root / "services" / "orders" / "pyproject.toml"
    orders.write_text(orders.read_text().replace("[build-system]", f"{CAPACITY}\n[build-system]"))
    manifest = package(root).manifest

    template, document = write_template(root, capsys)

    lint(sh, template)
    resources = document["Resources"]
    functions = {k for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert len(functions) == len(manifest.functions)
    routes = {
        v["Properties"]["RouteKey"] for v in resources.values() if v["Type"].endswith("Route")
    }
    assert routes == {r.route_key for f in manifest.functions for r in f.routes}
    kinds = {v["Type"] for v in resources.values()}
    assert {"AWS::DynamoDB::Table", "AWS::Lambda::Alias", "AWS::Events::Rule"} <= kinds

    sam_template, sam = write_template(root, capsys, "sam")

    lint(sh, sam_template)
    assert sam["Transform"] == "AWS::Serverless-2016-10-31"
    translated = translate(sam_template.read_text())
    made = translated["Resources"].items()
    assert {k for k, v in made if v["Type"] == "AWS::Lambda::Function"} == functions
    paths = translated["Resources"]["HttpApi"]["Properties"]["Body"]["paths"]
    assert {f"{m.upper()} {p}" for p, ms in paths.items() for m in ms} == routes
    assert {"AWS::DynamoDB::Table", "AWS::Lambda::Alias", "AWS::Events::Rule"} <= {
        v["Type"] for v in translated["Resources"].values()
    }


def test_a_rendered_project_s_template_lints_clean(
    tmp_path: Path,
    sh: Any,
    copier_cli: Any,
    shared_wheels: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root = tmp_path / "demo-shop"
    copier_cli.copy(root, {"kind": "project", "project_name": "demo-shop"}, cwd=tmp_path)
    copier_cli.copy(
        root / "packages" / "shop-models",
        {"kind": "package", "package_name": "shop-models"},
        cwd=root,
    )
    copier_cli.copy(
        root / "services" / "carts",
        {"kind": "service", "resource": "carts", "models_package": "shop-models"},
        cwd=root,
    )
    sh.run(["uv", "lock", "--quiet"], cwd=root)
    manifest = package(root).manifest

    template, document = write_template(root, capsys)

    lint(sh, template)
    assert document["Description"].startswith("lambdapress: project demo-shop, stage dev")
    names = {
        v["Properties"]["FunctionName"]
        for v in document["Resources"].values()
        if v["Type"] == "AWS::Lambda::Function"
    }
    assert names == {f"demo-shop-dev-{f.name.replace('.', '-')}" for f in manifest.functions}
    assert len(names) == 5  # one per endpoint of the rendered service
