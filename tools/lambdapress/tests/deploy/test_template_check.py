"""A template is made only from a manifest that still describes the sources."""

from collections.abc import Callable
from pathlib import Path

import pytest

from lambdapress.bundle.pipeline import package
from lambdapress.deploy.template_check import current_manifest
from lambdapress.errors import ConfigError

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
PYPROJECT = Path("services/shop/pyproject.toml")


@pytest.fixture
def packaged(bare_workspace: Callable[[dict[str, str]], Path]) -> Path:
    root = bare_workspace(PING)
    package(root, jobs=1)
    return root


def _stale(root: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        current_manifest(root)
    text = str(caught.value)
    assert text.startswith(f"{root / 'dist' / 'manifest.json'}: the manifest is stale:")
    assert "fix: run `nox -s package` (or `lambdapress package`)" in text
    return text


def test_a_fresh_manifest_is_current(packaged: Path) -> None:
    manifest = current_manifest(packaged)
    assert [f.name for f in manifest.functions] == ["shop.ping"]
    assert manifest.functions[0].routes[0].route_key == "GET /ping"


def test_an_edited_handler_makes_it_stale(packaged: Path) -> None:
    handler = packaged / HANDLER
    handler.write_text(handler.read_text().replace('"pong": True', '"pong": False'))
    assert "shop.ping: its code or dependencies changed since it was packaged" in _stale(packaged)


def test_a_changed_route_or_setting_makes_it_stale(packaged: Path) -> None:
    handler = packaged / HANDLER
    handler.write_text(handler.read_text().replace('"/ping"', '"/pong"'))
    pyproject = packaged / PYPROJECT
    settings = pyproject.read_text().replace(
        "[tool.lambdapress]\n", "[tool.lambdapress]\nmemory = 1024\n"
    )
    pyproject.write_text(settings)
    assert "shop.ping: memory, routes, its code or dependencies changed" in _stale(packaged)


def test_a_new_or_removed_handler_makes_it_stale(packaged: Path) -> None:
    handlers = packaged / HANDLER.parent
    (handlers / "ping.py").rename(handlers / "pong.py")
    text = _stale(packaged)
    assert "shop.pong: not packaged yet" in text
    assert "shop.ping: no longer in the sources" in text


def test_without_a_manifest_it_says_how_to_make_one(
    bare_workspace: Callable[[dict[str, str]], Path],
) -> None:
    root = bare_workspace(PING)
    with pytest.raises(ConfigError) as caught:
        current_manifest(root)
    assert "no manifest: nothing has been packaged yet" in str(caught.value)
    assert "run `nox -s package`" in str(caught.value)
