"""`lambdapress template --format`: each registered format, written where its name says.

A format registered from this file alone (`function-list`) is offered, listed in the help and
written like the built-in ones: no edit of the tool outside its registration.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from deploy.test_template_cli import PING

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.deploy.config import DeployConfig, load_deploy_config
from lambdapress.deploy.template import artifact_key
from lambdapress.formats._sam import render_sam
from lambdapress.formats.registry import (
    OutputFormat,
    register_output_format,
    unregister_output_format,
)
from lambdapress.model.application import Application
from lambdapress.model.manifest import manifest_path, read_manifest

from .rich import of_type, translate


@pytest.fixture
def packaged(bare_workspace: Callable[[dict[str, str]], Path]) -> Path:
    root = bare_workspace(PING)
    package(root, jobs=1)
    return root


def _function_list(
    application: Application, config: DeployConfig, stage: str, bucket: str | None
) -> str:
    """One line per function: the stack, the function and its zip's key."""
    return "".join(
        f"{config.stack_name(stage)}\t{f.name}\t"
        f"{artifact_key(config.prefix, f.service, f.artifact.sha256)}\n"
        for f in application.functions
    )


@pytest.fixture
def function_list() -> Iterator[OutputFormat]:
    """A format of the tests' own, registered for one test."""
    registered = register_output_format(
        OutputFormat("function-list", ".tsv", "each function and its zip's key", _function_list)
    )
    try:
        yield registered
    finally:
        unregister_output_format(registered.name)


def test_sam_is_written_under_dist_sam_as_yaml(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["template", "--stage", "dev", "--format", "sam", "--root", str(packaged)]) == 0
    written = packaged / "dist" / "sam" / "shop-dev.yaml"
    out = capsys.readouterr().out
    expected = render_sam(
        read_manifest(manifest_path(packaged)), load_deploy_config(packaged), "dev", None
    )
    assert written.read_text() == expected
    assert (
        out.splitlines()[0]
        == "sam template of stack shop-dev: dist/sam/shop-dev.yaml (9 resources)"
    )
    assert "parameter ArtifactBucket: the bucket you upload the zips to (no default)" in out
    assert not (packaged / "dist" / "cloudformation").exists()
    translated = translate(expected, {"ArtifactBucket": "shop-artifacts"})
    (function,) = of_type(translated, "AWS::Lambda::Function").values()
    manifest = read_manifest(manifest_path(packaged))
    key = artifact_key("lambdapress", "shop", manifest.functions[0].artifact.sha256)
    assert function["Properties"]["Code"]["S3Key"] == key


def test_sam_reads_the_manifest_and_the_stage_settings_only(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every service's and package's pyproject gone after `package`: the same bytes."""
    command = ["template", "--stage", "dev", "--format", "sam", "--root", str(packaged)]
    assert main(command) == 0
    written = packaged / "dist" / "sam" / "shop-dev.yaml"
    before = written.read_bytes()
    for member in (*packaged.glob("services/*"), *packaged.glob("packages/*")):
        (member / "pyproject.toml").unlink()
    shutil.rmtree(packaged / "services" / "shop" / "src")
    written.unlink()
    assert main(command) == 0
    assert written.read_bytes() == before
    capsys.readouterr()


def test_an_unknown_format_is_a_usage_error_listing_the_formats(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["template", "--stage", "dev", "--format", "terraform", "--root", str(packaged)])
    assert code == 2
    assert "argument --format: invalid choice: 'terraform' (choose from" in capsys.readouterr().err


def test_a_format_registered_by_the_tests_is_offered_and_written(
    packaged: Path, function_list: OutputFormat, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["template", "--help"]) == 0
    help_text = capsys.readouterr().out
    assert "{cloudformation,function-list,sam}" in help_text
    assert "function-list, each function and its zip's key" in " ".join(help_text.split())

    command = ["template", "--stage", "prod", "--format", "function-list", "--root", str(packaged)]
    assert main(command) == 0
    written = packaged / "dist" / "function-list" / "shop-prod.tsv"
    manifest = read_manifest(manifest_path(packaged))
    (function,) = manifest.functions
    key = artifact_key("lambdapress", "shop", function.artifact.sha256)
    assert written.read_text() == f"shop-prod\tshop.ping\t{key}\n"
    out = capsys.readouterr().out
    assert out.splitlines()[0] == (
        "function-list template of stack shop-prod: dist/function-list/shop-prod.tsv"
    )  # not a CloudFormation-shaped file: no resource count


def _readme_recipe() -> str:
    """The tool README's "Add an output format" example, as written."""
    readme = Path(__file__).resolve().parents[2] / "README.md"
    text = readme.read_text(encoding="utf-8")
    section = text[text.index("### Add an output format\n") :]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_s_recipe_registers_a_format_that_template_writes(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    namespace: dict[str, object] = {}
    exec(compile(_readme_recipe(), "README.md (Add an output format)", "exec"), namespace)  # noqa: S102
    try:
        command = ["template", "--stage", "dev", "--format", "zip-keys", "--root", str(packaged)]
        assert main(command) == 0
    finally:
        unregister_output_format("zip-keys")
    (function,) = read_manifest(manifest_path(packaged)).functions
    key = artifact_key("lambdapress", "shop", function.artifact.sha256)
    written = packaged / "dist" / "zip-keys" / "shop-dev.tsv"
    assert written.read_text() == f"dist/shop/ping.zip\t{key}\n"
    assert (
        "zip-keys template of stack shop-dev: dist/zip-keys/shop-dev.tsv" in capsys.readouterr().out
    )
