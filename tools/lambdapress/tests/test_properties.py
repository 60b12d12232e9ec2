"""Property-based: whatever a checkout holds, lambdapress answers with an error, never a crash.

Random bytes and odd-but-valid TOML go to the settings loader; random file trees (odd names,
empty, binary and non-UTF-8 files, deep folders, symlinks to nothing, to themselves and to
folders) go to function discovery and the import analysis. The only exception allowed out is a
LambdapressError, and every one of those names a file.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import tomlkit
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdapress.bundle._analysis import ServiceContext, function_contents, inputs_hash
from lambdapress.bundle._imports import ModuleIndex, package_data
from lambdapress.bundle.discovery import check_all_triggers, discover_service
from lambdapress.bundle.lock import Lock
from lambdapress.bundle.targets import Target
from lambdapress.config.settings import ServiceSettings, load_service_settings
from lambdapress.config.workspace import Service
from lambdapress.errors import LambdapressError

T = TypeVar("T")

# Deterministic (the same examples on every run and machine, nothing remembered between runs)
# and bounded, so the quick suite stays quick.
PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)


def answers_or_names_a_file(call: Callable[[], T]) -> T | None:
    """Run `call`: it may succeed, or refuse with a LambdapressError that has a path."""
    try:
        return call()
    except LambdapressError as error:
        assert error.path is not None, f"an error without a file: {error}"
        assert str(error)
        return None


# ---------------------------------------------------------------------------------- settings

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
KEYS = st.sampled_from(
    [
        "runtime",
        "architecture",
        "memory",
        "timeout",
        "environment",
        "include",
        "bundle",
        "aws_sdk",
        "allow_files",
        "memroy",
        "ключ",
        "🔑",
        "",
    ]
) | TEXT.filter(bool)
SCALARS = st.one_of(
    TEXT,
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**600), max_value=10**600),
    st.floats(),
    st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 1, 1)),
    st.dates(),
    st.sampled_from(["python3.12", "arm64", "service", "bundle", "orders.plugins", "/etc/x"]),
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)
TABLES = st.dictionaries(KEYS, VALUES, max_size=6)


def pyproject_text(table: dict[str, Any]) -> str:
    document = tomlkit.document()
    document["project"] = {"name": "x"}
    document["tool"] = {"lambdapress": table}
    return tomlkit.dumps(document)


@PROPERTIES
@given(table=TABLES)
def test_any_lambdapress_table_loads_or_is_a_config_error(table: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyproject.toml"
        path.write_text(pyproject_text(table), encoding="utf-8")
        loaded = answers_or_names_a_file(lambda: load_service_settings(path))
        assert loaded is None or isinstance(loaded, ServiceSettings)


@PROPERTIES
@given(
    data=st.binary(max_size=300)
    | st.sampled_from(
        [
            b"[tool.lambdapress]\nmemory = " + b"9" * 5000 + b"\n",
            b"[tool]\nlambdapress = 3\n",
            b"[tool.lambdapress]\ninclude = [1, 2]\n",
            b"[tool.lambdapress]\n\xff = 1\n",
            b"\x00",
            "[tool.lambdapress.environment]\nÜ = 'x'\n".encode(),
        ]
    )
)
def test_any_bytes_as_a_pyproject_load_or_are_a_config_error(data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "pyproject.toml"
        path.write_bytes(data)
        answers_or_names_a_file(lambda: load_service_settings(path))


# -------------------------------------------------------------------------------- file trees

NAMES = st.sampled_from(
    [
        "a",
        "b",
        "sub",
        "handlers",
        "tests",
        "__init__",
        "test_mode",
        "mode_test",
        "conftest",
        "my-mod",
        "a.b",
        "ünï",
        "with space",
        ".env",
        "id_rsa",
        "secrets",
        "__pycache__",
        ".hidden",
        "x" * 100,
        "class",
    ]
) | st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="/\0"), min_size=1, max_size=8
).filter(lambda name: name not in {".", ".."})
SUFFIXES = st.sampled_from([".py", ".py", ".py", "", ".json", ".pem", ".pyi", ".txt"])
LINES = st.sampled_from(
    [
        "import svc",
        "import svc.a",
        "import svc.sub.b",
        "from svc import a, b, sub",
        "from . import a",
        "from .. import x",
        "from ....... import deep",
        "from .sub import test_mode",
        "from svc import test_mode",
        "import svc.tests.helpers",
        "from svc.handlers import a",
        "import svc.gone",
        "import json",
        "import nothere",
        "try:\n    import svc.gone\nexcept ImportError:\n    pass",
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import svc.b",
        "def handler(event, context): ...",
        "handler = 1",
        "app = APIGatewayHttpResolver()",
        '@app.get("/x/<id>")\ndef f(): ...',
        '@app.get("/x/<other>")\ndef f2(): ...',
        '@app.route("/y", method=["GET", 1])\ndef g(): ...',
        '@app.route("/z", "BREW")\ndef h(): ...',
        "@app.get(PATH)\ndef k(): ...",
        '@app.get("no/slash")\ndef m(): ...',
        "def handler(:",
        "x = (" * 300,
        "# -*- coding: bogus -*-",
    ]
)
CONTENTS = st.one_of(
    st.just(b""),
    st.binary(max_size=64),
    st.lists(LINES, max_size=6).map(lambda lines: "\n".join(lines).encode() + b"\n"),
    st.sampled_from([b"\x00", b"x = '\xff\xfe'\n", b"\xef\xbb\xbfimport svc.a\n"]),
)


@st.composite
def entries(draw: st.DrawFn) -> tuple[str, bytes, str | None]:
    """(path under src/, contents, symlink kind or None)."""
    folders = draw(st.lists(NAMES, max_size=4))
    if draw(st.booleans()):
        folders = ["handlers", *folders[:1]]
    stem = draw(NAMES)
    relative = "/".join(["svc", *folders, stem + draw(SUFFIXES)])
    link = draw(st.sampled_from([None, None, None, None, "missing", "loop", "folder", "file"]))
    return relative, draw(CONTENTS), link


def make_tree(src: Path, tree: list[tuple[str, bytes, str | None]], odd_bytes: bool) -> None:
    (src / "svc" / "handlers").mkdir(parents=True)
    (src / "svc" / "__init__.py").write_bytes(b"")
    for relative, data, link in tree:
        path = src / relative
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            if link is None:
                path.write_bytes(data)
            elif link == "missing":
                path.symlink_to(src / "nowhere")
            elif link == "loop":
                path.symlink_to(path)
            elif link == "folder":
                path.symlink_to(src / "svc", target_is_directory=True)
            else:
                path.symlink_to(src / "svc" / "__init__.py")
        except OSError:
            continue  # a name the file system refuses, or a clash with a folder: skip it
    if odd_bytes:  # names that are not UTF-8 (Linux allows any bytes but / and NUL)
        for name in (b"\xff\xfe.json", b"mod\xff.py", b"handlers/get\xe9.py"):
            Path(os.fsdecode(os.fsencode(src / "svc") + b"/" + name)).write_bytes(b"import svc\n")


def exercise(root: Path, service_settings: ServiceSettings) -> None:
    """Discovery, the index, every module's closure, package data, credentials and the hash."""
    service = Service(
        name="svc",
        import_name="svc",
        path=root / "services" / "svc",
        settings=service_settings,
        answers=None,
    )
    src = service.path / "src"
    functions = answers_or_names_a_file(lambda: discover_service(service))
    if functions is not None:
        answers_or_names_a_file(lambda: check_all_triggers(functions))
    index = ModuleIndex(project=root)
    answers_or_names_a_file(lambda: index.add_root(src, "svc"))
    context = ServiceContext(
        service=service,
        target=Target.of(service_settings),
        index=index,
        folders=(service.path, src),
        installed={},
        import_map={},
        provided=frozenset(),
        extras={},
        foreign={},
    )
    lock = Lock(path=root / "uv.lock", packages=())
    for name in sorted(index.modules):

        def analyse(entry: str = name) -> None:
            contents = function_contents(context, lock, (entry,), ())
            package_data(index, [index.modules[entry]])
            inputs_hash(f"{entry}.handler", context, contents, False, "fingerprint")

        answers_or_names_a_file(analyse)


@PROPERTIES
@given(
    tree=st.lists(entries(), max_size=10),
    odd_bytes=st.booleans(),
    service_settings=st.sampled_from(
        [
            ServiceSettings(),
            ServiceSettings(include=["svc.a"]),
            ServiceSettings(include=["svc.test_mode", "svc.nope"]),
            ServiceSettings(allow_files=["*"]),
        ]
    ),
)
def test_any_file_tree_is_analysed_or_refused_naming_a_file(
    tree: list[tuple[str, bytes, str | None]], odd_bytes: bool, service_settings: ServiceSettings
) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        make_tree(root / "services" / "svc" / "src", tree, odd_bytes)
        exercise(root, service_settings)
