"""Every file and answer lambdapress reads back: garbage in, a user-facing error out, never a crash.

Hypothesis feeds each reader random bytes and well-formed documents of the wrong shape (random
JSON, TOML and YAML values, and valid documents with one value replaced). The reader must
either parse, or refuse with the project's error type naming its source, leaving the file as
it was; a cache reader treats what it cannot use as absent (the build makes it again).

| reader                           | source                        | test                     |
| -------------------------------- | ----------------------------- | ------------------------ |
| `manifest.read_manifest`         | dist/manifest.json            | test_manifest_*, CLI     |
| `answers.read_answers`           | .copier-answers.yml           | test_answers_*           |
| `bundle.lock.read_lock`          | uv.lock                       | test_lock_*              |
| `storage.state.read_state`       | .cache/lambdapress/db/state.json | test_db_state_* |
| `publish.simple.parse_simple_json` | an index's PEP 691 page (URL) | test_index_json_page_* |
| `publish.simple.parse_simple_html` | an index's PEP 503 page (URL) | test_index_html_page_* |
| `publish.simple.project_files`   | the page, over HTTP           | publish/test_index_faults |
| `deploy.aws.Aws.stack` outputs   | CloudFormation DescribeStacks | test_stack_outputs_*     |
| `deploy.aws.Aws` (any call)      | an endpoint answering HTML    | test_remote_timeouts     |
| `bundle.artifacts.read_record`   | local cache record            | test_cache_record_*      |
| `ArtifactRecord` (shared cache)  | s3://.../<hash>.json          | test_cache_record_*      |
| `bundle.wheels.read_record`      | an installed wheel's record   | test_wheel_record_*      |
| `bundle.entries` (`_verify`, `derived`) | entry store files      | test_entry_store_*       |
| `bundle.facts.FileFacts.load`    | planning cache                | test_planning_cache_*    |
| `server_lock.peek`               | <state folder>/<name>.lock    | test_server_lock_file_*  |
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import tomllib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
import tomlkit
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdapress.bundle import _artifacts, _entries, wheels
from lambdapress.bundle._facts import FileFacts, seal
from lambdapress.bundle._facts import path as facts_path
from lambdapress.bundle.lock import Lock, read_lock
from lambdapress.cli import main
from lambdapress.config.answers import CopierAnswers, read_answers
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy.aws import Aws, StackState
from lambdapress.errors import LambdapressError
from lambdapress.model.application import Application
from lambdapress.model.manifest import read_manifest
from lambdapress.publish._simple import parse_simple_html, parse_simple_json
from lambdapress.storage.state import read_state, state_path
from lambdapress.support.integrity import COMPLETE_MARK
from lambdapress.support.server_lock import Holder, lock_path, peek

T = TypeVar("T")

PROPERTIES = settings(
    max_examples=int(os.environ.get("LAMBDAPRESS_PROPERTY_EXAMPLES", "60")),
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=12)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    TEXT,
    st.sampled_from(["", "0" * 64, "dist/x.zip", "../../etc/passwd", "/etc/passwd", "-1"]),
)
JSON = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=16,
)


def replaced(document: Any, choices: st.DataObject) -> Any:
    """`document` with one value somewhere (chosen by hypothesis) replaced by random JSON."""
    if isinstance(document, dict) and document and choices.draw(st.booleans()):
        key = choices.draw(st.sampled_from(sorted(document)))
        return {**document, key: replaced(document[key], choices)}
    if isinstance(document, list) and document and choices.draw(st.booleans()):
        index = choices.draw(st.integers(0, len(document) - 1))
        return [*document[:index], replaced(document[index], choices), *document[index + 1 :]]
    return choices.draw(JSON)


def refuses_or_reads(
    call: Callable[[], T], source: str, file: Path | None = None
) -> T | LambdapressError:
    """`call()`'s result, or the LambdapressError it raised, which must name `source`; a
    refusing reader leaves `file` as it was."""
    before = file.read_bytes() if file is not None and file.exists() else None
    try:
        return call()
    except LambdapressError as error:
        text = str(error)
        assert source in text or (error.path is not None and source == str(error.path)), text
        assert error.hint, text
        if file is not None:
            after = file.read_bytes() if file.exists() else None
            assert after == before, "a refusing reader changed the file"
        return error


@contextlib.contextmanager
def scratch() -> Iterator[Path]:
    """A fresh folder per example (hypothesis runs many examples in one test function)."""
    with tempfile.TemporaryDirectory(prefix="lambdapress-readers-") as folder:
        yield Path(folder)


BYTES = st.binary(max_size=300) | st.sampled_from(
    [b"", b"{", b"[" * 5000, b"\xff\xfe", b"null", b'{"a": 1}', b"\x00" * 64]
)


# ---------------------------------------------------------------------------------- manifest
VALID_MANIFEST: dict[str, Any] = {
    "schema_version": 2,
    "functions": [
        {
            "name": "shop.get_item",
            "service": "shop",
            "handler": "shop.handlers.get_item.handler",
            "triggers": [{"kind": "http", "method": "GET", "path": "/items/{item_id}"}],
            "artifact": {
                "path": "dist/shop/get_item.zip",
                "sha256": "0" * 64,
                "code_sha256": "AAAA",
                "size": 10,
                "inputs_hash": "h",
            },
            "runtime": "python3.12",
            "architecture": "x86_64",
            "memory": 256,
            "timeout": 10,
            "uses": ["shop/dynamodb-table/items"],
            "permissions": [
                {
                    "actions": ["dynamodb:GetItem"],
                    "resources": ["resource:shop/dynamodb-table/items"],
                    "reason": "uses the tables of service shop",
                }
            ],
        }
    ],
    "resources": [
        {"kind": "dynamodb-table", "service": "shop", "name": "items", "partition_key": "id"}
    ],
}


def _manifest(content: bytes) -> Application | LambdapressError:
    with scratch() as folder:
        path = folder / "manifest.json"
        path.write_bytes(content)
        return refuses_or_reads(lambda: read_manifest(path), str(path), path)


def test_manifest_the_valid_one_reads() -> None:
    assert isinstance(_manifest(json.dumps(VALID_MANIFEST).encode()), Application)


@PROPERTIES
@given(content=BYTES)
def test_manifest_random_bytes(content: bytes) -> None:
    _manifest(content)


@PROPERTIES
@given(choices=st.data())
def test_manifest_wrong_shapes(choices: st.DataObject) -> None:
    _manifest(json.dumps(replaced(VALID_MANIFEST, choices)).encode())


def test_manifest_artifacts_outside_the_repository_are_refused() -> None:
    for artifact in ("/etc/passwd", "../secrets.zip", "dist/../../x.zip", "C:/x.zip", ""):
        function = VALID_MANIFEST["functions"][0]
        entry = {**function, "artifact": {**function["artifact"], "path": artifact}}
        answer = _manifest(json.dumps({"schema_version": 2, "functions": [entry]}).encode())
        assert isinstance(answer, LambdapressError) and "inside the repository" in str(answer)


# ----------------------------------------------------------------------------------- answers
VALID_ANSWERS = {"_src_path": "gh:acme/template", "_commit": "v0.3.0", "kind": "project"}


def _answers(content: bytes) -> CopierAnswers | LambdapressError:
    with scratch() as folder:
        path = folder / ".copier-answers.yml"
        path.write_bytes(content)
        return refuses_or_reads(lambda: read_answers(path), str(path), path)


@PROPERTIES
@given(content=BYTES | TEXT.map(str.encode))
def test_answers_random_bytes(content: bytes) -> None:
    _answers(content)


@PROPERTIES
@given(choices=st.data())
def test_answers_wrong_shapes(choices: st.DataObject) -> None:
    _answers(yaml.safe_dump(replaced(VALID_ANSWERS, choices)).encode())


def test_answers_odd_yaml_is_refused_not_crashed() -> None:
    for text in ("a: 2024-13-45\n_src_path: x\n", "[" * 3000, "? [a, b]\n: c\n"):
        assert isinstance(_answers(text.encode()), LambdapressError | CopierAnswers)


# -------------------------------------------------------------------------------------- lock
VALID_LOCK = tomllib.loads(
    """
version = 1

[[package]]
name = "svc"
version = "0.1.0"
source = { editable = "services/svc" }
dependencies = [{ name = "lib", extra = ["fast"], marker = "python_version >= '3.11'" }]

[[package]]
name = "lib"
version = "1.0"
source = { registry = "https://pypi.org/simple" }
wheels = [{ url = "https://files.example/lib-1.0-py3-none-any.whl", hash = "sha256:00" }]

[package.optional-dependencies]
fast = [{ name = "svc" }]
"""
)


def _tomlable(value: Any) -> Any:
    """TOML has no null: None becomes a string; everything else as it is."""
    if value is None:
        return "null"
    if isinstance(value, dict):
        return {k: _tomlable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_tomlable(v) for v in value]
    return value


def _lock(content: bytes) -> Lock | LambdapressError:
    with scratch() as root:
        path = root / "uv.lock"
        path.write_bytes(content)
        return refuses_or_reads(lambda: read_lock(root), str(path), path)


def test_lock_the_valid_one_reads() -> None:
    assert isinstance(_lock(tomlkit.dumps(VALID_LOCK).encode()), Lock)


@PROPERTIES
@given(content=BYTES)
def test_lock_random_bytes(content: bytes) -> None:
    _lock(content)


@PROPERTIES
@given(choices=st.data())
def test_lock_wrong_shapes(choices: st.DataObject) -> None:
    document = replaced(VALID_LOCK, choices)
    if not isinstance(document, dict):
        document = {"package": document}
    _lock(tomlkit.dumps(_tomlable(document)).encode())


# ---------------------------------------------------------------------------------- db state
VALID_STATE = {
    "pid": 1,
    "backends": {
        "postgres": {
            "port": 5432,
            "databases": {"orders": "postgresql://lambdapress@127.0.0.1:5432/orders"},
        },
        "dynamodb": {
            "endpoint": "http://127.0.0.1:5000",
            "region": "us-east-1",
            "tables": {"customers": {"customers": "repo-local-customers"}},
        },
    },
}


def _state(content: bytes) -> object:
    with scratch() as root:
        path = state_path(root)
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        return refuses_or_reads(lambda: read_state(root), str(path), path)


@PROPERTIES
@given(content=BYTES)
def test_db_state_random_bytes(content: bytes) -> None:
    _state(content)


@PROPERTIES
@given(choices=st.data())
def test_db_state_wrong_shapes(choices: st.DataObject) -> None:
    _state(json.dumps(replaced(VALID_STATE, choices)).encode())


# ------------------------------------------------------------------------------- index pages
PAGE_URL = "http://127.0.0.1:8080/simple/acme-models/"
VALID_PAGE = {
    "meta": {"api-version": "1.1"},
    "name": "acme-models",
    "files": [
        {
            "filename": "acme_models-1.0.0-py3-none-any.whl",
            "url": "../../packages/acme_models-1.0.0-py3-none-any.whl",
            "hashes": {"sha256": "ab"},
        }
    ],
}
HREFS = TEXT | st.sampled_from(
    [
        "http://[",
        "//",
        "#sha256=",
        "acme_models-1.0.tar.gz#sha256=zz",
        "acme_models-1.0-py3-none-any.whl",
        "acme_models-0x-py3-none-any.whl",
        "https://[::1/acme_models-1.0.tar.gz",
    ]
)


@PROPERTIES
@given(choices=st.data())
def test_index_json_page_wrong_shapes(choices: st.DataObject) -> None:
    data = replaced(VALID_PAGE, choices)
    refuses_or_reads(lambda: parse_simple_json(data, PAGE_URL, "acme-models"), PAGE_URL)


@PROPERTIES
@given(text=TEXT, hrefs=st.lists(HREFS, max_size=4))
def test_index_html_page_random_text_and_links(text: str, hrefs: list[str]) -> None:
    links = "".join(f'<a href="{href}">{text}</a>' for href in hrefs)
    for page in (text, f"<html><body>{links}</body></html>", f"<a href='{text}'>"):
        refuses_or_reads(lambda p=page: parse_simple_html(p, PAGE_URL, "acme-models"), PAGE_URL)


# ------------------------------------------------------------------------ CloudFormation outputs
class _DescribeStacks:
    def __init__(self, outputs: Any) -> None:
        self.outputs = outputs

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        stack = {"StackId": "arn:stack", "StackStatus": "CREATE_COMPLETE", "Outputs": self.outputs}
        return {"Stacks": [stack]}


_AWS: list[Aws] = []


@PROPERTIES
@given(choices=st.data())
def test_stack_outputs_wrong_shapes(choices: st.DataObject) -> None:
    if not _AWS:  # boto3 clients take a while to make: one for every example
        _AWS.append(Aws(Secrets()))
    aws = _AWS[0]
    outputs = replaced([{"OutputKey": "ApiUrl", "OutputValue": "https://x.example/"}], choices)
    aws._cfn = _DescribeStacks(outputs)  # type: ignore[assignment]
    read = refuses_or_reads(lambda: aws.stack("shop-dev"), "shop-dev")
    assert isinstance(read, StackState | LambdapressError)


# ---------------------------------------------------------------------------------- caches
VALID_RECORD = {"sha256": "0" * 64, "size": 1, "unzipped_size": 1, "files": 1}


@PROPERTIES
@given(content=BYTES, choices=st.data())
def test_cache_record_random_content_is_a_usable_record_or_none(
    content: bytes, choices: st.DataObject
) -> None:
    for data in (content, json.dumps(replaced(VALID_RECORD, choices)).encode()):
        with scratch() as cache:
            _artifacts.record_path(cache, "h").parent.mkdir(parents=True)
            _artifacts.record_path(cache, "h").write_bytes(data)
            record = _artifacts.read_record(cache, "h")
            if record is not None:
                assert record.archive().size >= 0  # usable as it is: digest and sizes


@PROPERTIES
@given(content=BYTES)
def test_wheel_record_random_content_is_a_record_or_none(content: bytes) -> None:
    with scratch() as folder:
        (folder / COMPLETE_MARK).write_bytes(content)
        assert wheels.read_record(folder) is None or wheels.damage(folder) is not None


@PROPERTIES
@given(content=BYTES | st.binary(min_size=60, max_size=200).map(lambda b: _entries.MAGIC + b))
def test_entry_store_random_files_are_entries_or_problems(content: bytes) -> None:
    with scratch() as cache:
        store = _entries.EntryStore(cache)
        path = store.path("ab" * 32)
        path.parent.mkdir(parents=True)
        path.write_bytes(content)
        stored, problem = _entries._verify(path)
        assert (stored is None) == bool(problem)
        derived = store.root / "derived" / "ke" / "key"
        derived.parent.mkdir(parents=True)
        derived.write_bytes(content)
        assert store.derived("key") in (None, content[len(_entries._DERIVED) + 32 :])


VALID_FACTS_BODY = {
    "digests": {"/a.py": [[1, 2, 3, 4], "d"]},
    "imports": {"k": [["n", 1, 0]]},
    "native": {},
    "derived": {"discovery:k:/a.py": ["d", {"handler_line": 1, "declared": []}]},
}


@PROPERTIES
@given(content=BYTES, choices=st.data())
def test_planning_cache_random_or_sealed_garbage_is_discarded_with_a_warning(
    content: bytes, choices: st.DataObject
) -> None:
    body = replaced(VALID_FACTS_BODY, choices)
    for data in (content, seal(body)):
        with scratch() as folder:
            facts_path(folder).parent.mkdir(parents=True, exist_ok=True)
            facts_path(folder).write_bytes(data)
            FileFacts.load(folder)  # a warning at most: never an exception


@PROPERTIES
@given(content=BYTES)
def test_server_lock_file_random_content_names_no_one(content: bytes) -> None:
    with scratch() as folder:
        lock_path(folder, "demo").write_bytes(content)
        found = peek(folder, "demo")
        assert isinstance(found, Holder)
        assert found.pid is None or found.pid > 0


def test_a_record_whose_digest_is_not_hex_is_no_record() -> None:
    with scratch() as cache:
        _artifacts.record_path(cache, "h").parent.mkdir(parents=True)
        bad = {**VALID_RECORD, "sha256": "z" * 64}
        _artifacts.record_path(cache, "h").write_text(json.dumps(bad))
        assert _artifacts.read_record(cache, "h") is None


def test_a_garbage_manifest_is_exit_1_naming_it(
    builder: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = builder.root / "dist" / "manifest.json"
    manifest.parent.mkdir(parents=True)
    manifest.write_bytes(b"\xff\xfe garbage")

    assert main(["invoke", "shop.get_item", "--root", str(builder.root)]) == 1

    error = capsys.readouterr().err
    assert error.startswith(f"error: {manifest}: ")
    assert "internal error" not in error
    assert manifest.read_bytes() == b"\xff\xfe garbage"
