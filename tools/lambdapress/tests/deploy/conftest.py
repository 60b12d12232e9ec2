"""The deploy tests' workspace: three functions of one service `shop`, one of them routed.

Its service sets a secret-looking variable to `MARKER`, which no output may ever show.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from botocore.stub import Stubber

from .drift_stubs import stubbed_cloudformation

MARKER = "lpmarker-7f3a9c"  # a secret value: must never appear in any output

MODULES = {
    "pyproject.toml": """
[tool.uv.workspace]
members = ["services/*"]

[tool.lambdapress.deploy]
project = "shop"
""",
    "services/shop/src/shop/web.py": """
class APIGatewayHttpResolver:
    def __init__(self):
        self.routes = {}

    def get(self, path):
        def register(function):
            self.routes[("GET", path)] = function
            return function

        return register

    def resolve(self, event, context):
        return {"statusCode": 200, "body": "{}"}
""",
    "services/shop/src/shop/handlers/greet.py": """
from shop.web import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.get("/greet")
def greet():
    return {"greeting": "hello"}


def handler(event, context):
    return app.resolve(event, context)
""",
    "services/shop/src/shop/handlers/stock.py": """
def handler(event, context):
    return {"stock": 3}
""",
    "services/shop/src/shop/handlers/audit.py": """
def handler(event, context):
    return {"audit": True}
""",
}


@pytest.fixture
def shop(bare_workspace: Callable[[dict[str, str]], Path]) -> Path:
    """The three-function shop (locked, not yet packaged), its API_TOKEN set to the marker.

    `stock` is kept warm by an EventBridge rule and has reserved concurrency.
    """
    root = bare_workspace(MODULES)
    service = root / "services" / "shop" / "pyproject.toml"
    text = service.read_text(encoding="utf-8").replace(
        'runtime = "python3.11"\n',
        'runtime = "python3.11"\n\n'
        f'[tool.lambdapress.environment]\nAPI_TOKEN = "{MARKER}"\n\n'
        "[tool.lambdapress.functions.stock]\nreserved_concurrency = 5\nwarm_every_minutes = 5\n",
    )
    service.write_text(text, encoding="utf-8")
    return root


@pytest.fixture
def cloudformation(monkeypatch: pytest.MonkeyPatch) -> Iterator[Stubber]:
    """CloudFormation's answers from a Stubber (`drift_stubs`: moto has no drift detection)."""
    yield from stubbed_cloudformation(monkeypatch)
