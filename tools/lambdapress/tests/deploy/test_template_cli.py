"""`lambdapress template --stage dev`: writes the template whole and says where."""

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.deploy.config import load_deploy_config
from lambdapress.deploy.template import template_body
from lambdapress.model.manifest import manifest_path, read_manifest

PING = {
    "services/shop/src/shop/handlers/ping.py": """
class APIGatewayHttpResolver:
    def get(self, path):
        return lambda function: function


app = APIGatewayHttpResolver()


@app.get("/ping")
def ping():
    return {"pong": True}


def handler(event, context):
    return {"statusCode": 200}
""",
}
HANDLER = Path("services/shop/src/shop/handlers/ping.py")


@pytest.fixture
def packaged(bare_workspace: Callable[[dict[str, str]], Path]) -> Path:
    root = bare_workspace(PING)
    package(root, jobs=1)
    return root


def test_writes_the_stage_s_template_under_dist(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["template", "--stage", "dev", "--root", str(packaged)]) == 0
    written = packaged / "dist" / "cloudformation" / "shop-dev.json"
    out = capsys.readouterr().out
    assert out.startswith("template of stack shop-dev: dist/cloudformation/shop-dev.json (")
    assert "parameter ArtifactBucket: the bucket you upload the zips to (no default)" in out
    config = load_deploy_config(packaged)
    manifest = read_manifest(manifest_path(packaged))
    expected = template_body(manifest, config, "dev", None)
    assert written.read_text() == expected
    resources = json.loads(expected)["Resources"]
    assert f"({len(resources)} resources)" in out
    assert "ShopPingRouteGetPing" in resources
    leftovers = [p.name for p in written.parent.iterdir() if p.name != written.name]
    assert leftovers == []


def test_output_and_configured_bucket(packaged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pyproject = packaged / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text() + '[tool.lambdapress.deploy]\nproject = "webshop"\nbucket = "wb-1"\n'
    )
    output = packaged / "out" / "stack.json"
    code = main(["template", "--stage", "prod", "--root", str(packaged), "--output", str(output)])
    assert code == 0
    assert "parameter ArtifactBucket: defaults to wb-1" in capsys.readouterr().out
    document = json.loads(output.read_text())
    assert document["Parameters"]["ArtifactBucket"]["Default"] == "wb-1"
    function = document["Resources"]["ShopPingFunction"]["Properties"]
    assert function["FunctionName"] == "webshop-prod-shop-ping"


def test_the_template_reads_the_manifest_and_the_stage_settings_only(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every service's and package's pyproject gone after `package`: the same bytes."""
    assert main(["template", "--stage", "dev", "--root", str(packaged)]) == 0
    written = packaged / "dist" / "cloudformation" / "shop-dev.json"
    before = written.read_bytes()
    for member in (*packaged.glob("services/*"), *packaged.glob("packages/*")):
        (member / "pyproject.toml").unlink()
    shutil.rmtree(packaged / "services" / "shop" / "src")
    written.unlink()
    assert main(["template", "--stage", "dev", "--root", str(packaged)]) == 0
    assert written.read_bytes() == before
    capsys.readouterr()


def test_the_template_is_what_was_packaged_even_after_an_edit(packaged: Path) -> None:
    """No staleness guess from the sources: the manifest is the contract, `deploy` packages
    first, and a pipeline that runs `template` after `package` gets what was built."""
    handler = packaged / HANDLER
    before = template_body(
        read_manifest(manifest_path(packaged)), load_deploy_config(packaged), "dev"
    )
    handler.write_text(handler.read_text() + "\n# edited\n")
    assert main(["template", "--stage", "dev", "--root", str(packaged)]) == 0
    written = packaged / "dist" / "cloudformation" / "shop-dev.json"
    assert written.read_text() == before


def test_a_bad_stage_is_a_user_error(packaged: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["template", "--stage", "Prod", "--root", str(packaged)]) == 1
    assert "'Prod' is not a valid stage name" in capsys.readouterr().err


def test_an_unwritable_output_is_a_user_error(
    packaged: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = packaged / "taken"
    folder.mkdir()
    assert (
        main(["template", "--stage", "dev", "--root", str(packaged), "--output", str(folder)]) == 1
    )
    err = capsys.readouterr().err
    assert err.startswith(f"error: {folder}: cannot write the template")
    assert "fix: choose another --output" in err
