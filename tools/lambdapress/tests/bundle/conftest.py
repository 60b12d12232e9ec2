"""A small but real workspace to package: a model library, a service, a lock from uv.

The shop service's handlers use a tiny resolver of its own (same decorator shape as
Powertools), so the fixture needs only two small wheels (six, markupsafe) and builds fast.
"""

from __future__ import annotations

import shutil
import struct
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from moto.server import ThreadedMotoServer

from lambdapress.bundle import PackageResult, package

FILES: dict[str, str] = {
    "pyproject.toml": """
[tool.uv.workspace]
members = ["packages/*", "services/*"]
""",
    "packages/shop-models/pyproject.toml": """
[project]
name = "shop-models"
version = "1.0.0"
requires-python = ">=3.11"
dependencies = []

[tool.poetry]
packages = [{ include = "shop_models", from = "src" }]

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
""",
    "packages/shop-models/src/shop_models/__init__.py": """
from shop_models.item import Item

__all__ = ["Item"]
""",
    "packages/shop-models/src/shop_models/item.py": """
from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    id: str
    name: str
""",
    "packages/shop-models/src/shop_models/schema.json": '{"title": "Item"}\n',
    "services/shop/pyproject.toml": """
[project]
name = "shop"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["shop-models", "six", "markupsafe"]

[tool.poetry]
packages = [{ include = "shop", from = "src" }]

[tool.poetry.dependencies]
shop-models = { path = "../../packages/shop-models", develop = true }

[tool.uv.sources]
shop-models = { workspace = true }

[tool.lambdapress]
runtime = "python3.11"
architecture = "x86_64"
memory = 512
timeout = 5

[tool.lambdapress.environment]
STAGE = "test"

[build-system]
requires = ["poetry-core>=2.0"]
build-backend = "poetry.core.masonry.api"
""",
    "services/shop/.env": "SECRET=do-not-ship\n",
    "services/shop/src/shop/__init__.py": "",
    "services/shop/src/shop/web.py": '''
"""A resolver with Powertools' decorator shape, small enough for tests."""

import json
import re


class APIGatewayHttpResolver:
    def __init__(self):
        self.routes = []

    def _add(self, method, path):
        pattern = re.compile("^" + re.sub(r"<[^>]+>", "([^/]+)", path) + "$")

        def register(function):
            self.routes.append((method, pattern, function))
            return function

        return register

    def get(self, path):
        return self._add("GET", path)

    def post(self, path):
        return self._add("POST", path)

    def resolve(self, event, context):
        method = event["requestContext"]["http"]["method"]
        for route_method, pattern, function in self.routes:
            match = pattern.match(event["rawPath"])
            if match and route_method == method:
                body = function(*match.groups())
                return {"statusCode": 200, "body": json.dumps(body)}
        return {"statusCode": 404, "body": "{}"}
''',
    "services/shop/src/shop/store.py": """
from shop_models import Item

ITEMS = {"1": Item(id="1", name="kettle")}
""",
    "services/shop/src/shop/render.py": """
from markupsafe import escape


def html_name(name: str) -> str:
    return str(escape(name))
""",
    "services/shop/src/shop/unused.py": "UNUSED = True\n",
    "services/shop/src/shop/handlers/__init__.py": "",
    "services/shop/src/shop/handlers/get_item.py": """
from shop.store import ITEMS
from shop.web import APIGatewayHttpResolver

app = APIGatewayHttpResolver()


@app.get("/items/<item_id>")
def get_item(item_id):
    item = ITEMS[item_id]
    return {"id": item.id, "name": item.name}


def handler(event, context):
    return app.resolve(event, context)
""",
    "services/shop/src/shop/handlers/create_item.py": """
from typing import TYPE_CHECKING

from shop.render import html_name
from shop.web import APIGatewayHttpResolver

if TYPE_CHECKING:
    from shop.unused import UNUSED

app = APIGatewayHttpResolver()


@app.post("/items")
def create_item():
    return {"html": html_name("<b>new</b>")}


def handler(event, context):
    return app.resolve(event, context)
""",
    "services/shop/tests/test_shop.py": "def test_nothing_to_ship():\n    assert True\n",
}


def write_workspace(root: Path) -> None:
    for relative, text in FILES.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"))


def lock(root: Path) -> None:
    result = subprocess.run(
        ["uv", "lock", "--quiet"], cwd=root, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


@pytest.fixture(scope="session")
def shop_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("shop-template") / "shop"
    write_workspace(root)
    lock(root)
    return root


@pytest.fixture(scope="session")
def wheel_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("lambdapress-cache")


@pytest.fixture
def shop(
    shop_template: Path, tmp_path: Path, wheel_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> Path:
    """A fresh copy of the shop workspace, sharing one wheel cache across tests."""
    root = tmp_path / "shop"
    shutil.copytree(shop_template, root)
    monkeypatch.setenv("LAMBDAPRESS_CACHE", str(wheel_cache))
    return root


@pytest.fixture
def build() -> Callable[[Path], PackageResult]:
    def run(root: Path) -> PackageResult:
        return package(root, jobs=2)

    return run


@pytest.fixture
def s3_server(moto_server: ThreadedMotoServer) -> ThreadedMotoServer:
    """moto's server (the root conftest's `moto_server`), under the name the cache tests use."""
    return moto_server


def elf_object(
    needed: tuple[str, ...] = (),
    *,
    soname: str | None = None,
    runpath: str | None = None,
    machine: int = 62,
    wide: bool = True,
    little: bool = True,
) -> bytes:
    """A minimal ELF shared object: one PT_LOAD over the file, one PT_DYNAMIC, a string table.

    What the dynamic loader reads, and nothing else (no code): enough for the bundler's
    reader, on machines without a compiler. `machine` 62 is x86_64, 183 aarch64.
    """
    order = "<" if little else ">"
    header_size, entry_size, dynamic_entry = (64, 56, "qQ") if wide else (52, 32, "iI")
    strings = b"\0"
    offsets: list[tuple[int, int]] = []

    def add(tag: int, text: str) -> None:
        nonlocal strings
        offsets.append((tag, len(strings)))
        strings += text.encode() + b"\0"

    for name in needed:
        add(1, name)
    if soname is not None:
        add(14, soname)
    if runpath is not None:
        add(29, runpath)
    dynamic_offset = header_size + 2 * entry_size
    dynamic_width = struct.calcsize(order + dynamic_entry)
    strtab = dynamic_offset + (len(offsets) + 3) * dynamic_width
    entries = [*offsets, (5, strtab), (10, len(strings)), (0, 0)]
    dynamic = b"".join(struct.pack(order + dynamic_entry, tag, value) for tag, value in entries)
    size = strtab + len(strings)
    ident = b"\x7fELF" + bytes([2 if wide else 1, 1 if little else 2, 1]) + bytes(9)
    if wide:
        header = struct.pack(
            order + "HHIQQQIHHHHHH", 3, machine, 1, 0, header_size, 0, 0, 64, 56, 2, 0, 0, 0
        )
        load = struct.pack(order + "IIQQQQQQ", 1, 5, 0, 0, 0, size, size, 0x1000)
        dyn = struct.pack(
            order + "IIQQQQQQ", 2, 6, dynamic_offset, dynamic_offset, 0, len(dynamic), 0, 8
        )
    else:
        header = struct.pack(
            order + "HHIIIIIHHHHHH", 3, machine, 1, 0, header_size, 0, 0, 52, 32, 2, 0, 0, 0
        )
        load = struct.pack(order + "IIIIIIII", 1, 0, 0, 0, size, size, 5, 0x1000)
        dyn = struct.pack(
            order + "IIIIIIII", 2, dynamic_offset, dynamic_offset, 0, len(dynamic), 0, 6, 4
        )
    return ident + header + load + dyn + dynamic + strings


@pytest.fixture
def make_elf() -> Callable[..., bytes]:
    """`elf_object`, for the tests of the native-library check."""
    return elf_object
