"""The index-credential rule: one module, standard library only, loadable by its path."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from pydantic import SecretStr

from lambdapress.bundle.wheels import INDEX_NAME as WHEELS_INDEX
from lambdapress.indexes import uv_credentials as rule
from lambdapress.indexes.config import ResolvedIndex
from lambdapress.publish._schemas import UV_INDEX_NAME as SCHEMAS_INDEX

RULE_FILE = Path(rule.__file__)


def test_the_variable_names() -> None:
    assert (
        rule.lambdapress_variable("my-index", "PASSWORD") == "LAMBDAPRESS_INDEX_MY_INDEX_PASSWORD"
    )
    assert rule.uv_variable("company.pypi", "USERNAME") == "UV_INDEX_COMPANY_PYPI_USERNAME"
    assert rule.variable_key("Ünï 2") == "_N__2"  # only ASCII letters and digits stay


def test_uvs_variables_are_filled_from_lambdapresss_where_unset() -> None:
    environ = {
        "LAMBDAPRESS_INDEX_COMPANY_PYPI_USERNAME": "reader",
        "LAMBDAPRESS_INDEX_COMPANY_PYPI_PASSWORD": "pw",
        "UV_INDEX_COMPANY_PYPI_PASSWORD": "already-set",
        "LAMBDAPRESS_INDEX_EMPTY_PASSWORD": "",
        "LAMBDAPRESS_INDEX__PASSWORD": "no index has an empty name",
    }
    found = rule.uv_credentials(["company-pypi", "empty", "", "other"], environ)
    assert found == {"UV_INDEX_COMPANY_PYPI_USERNAME": "reader"}


def test_a_resolved_index_hands_uv_its_credentials_under_the_name_uv_knows() -> None:
    index = ResolvedIndex(
        name="company",
        kind="upload-api",
        upload_url="https://x.invalid/",
        index_url="https://x.invalid/simple/",
        username="alice",
        password=SecretStr("s3cret"),
    )
    assert index.uv_variables() == {
        "UV_INDEX_COMPANY_USERNAME": "alice",
        "UV_INDEX_COMPANY_PASSWORD": "s3cret",
    }
    # The bundler's and the publisher's fixed names for the index they hand uv.
    assert set(index.uv_variables(WHEELS_INDEX)) == {
        "UV_INDEX_LAMBDAPRESS_WHEELS_USERNAME",
        "UV_INDEX_LAMBDAPRESS_WHEELS_PASSWORD",
    }
    assert set(index.uv_variables(SCHEMAS_INDEX)) == {
        "UV_INDEX_LAMBDAPRESS_PRIVATE_USERNAME",
        "UV_INDEX_LAMBDAPRESS_PRIVATE_PASSWORD",
    }
    anonymous = index.model_copy(update={"username": None, "password": None})
    assert anonymous.uv_variables() == {}


@given(st.text(max_size=20), st.sampled_from(rule.PARTS))
def test_both_tools_name_an_index_the_same_way(index: str, part: str) -> None:
    lambdapress = rule.lambdapress_variable(index, part)
    uv = rule.uv_variable(index, part)
    assert lambdapress.removeprefix("LAMBDAPRESS_") == uv.removeprefix("UV_")
    assert uv.isascii() and uv.replace("_", "").isalnum()


def test_the_module_imports_the_standard_library_only() -> None:
    """The noxfile and a copier migration load it by path, with no lambdapress installed."""
    tree = ast.parse(RULE_FILE.read_text(encoding="utf-8"))
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0 and node.module is not None
            imported.add(node.module.split(".")[0])
    assert imported - {"__future__"} <= set(sys.stdlib_module_names), imported


def test_it_loads_by_path_in_a_bare_interpreter() -> None:
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('rule', {str(RULE_FILE)!r})\n"
        "module = importlib.util.module_from_spec(spec)\n"
        "spec.loader.exec_module(module)\n"
        "assert 'lambdapress' not in sys.modules\n"
        "print(module.uv_credentials(['a-b'], {'LAMBDAPRESS_INDEX_A_B_PASSWORD': 'x'}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-S", "-c", script],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "{'UV_INDEX_A_B_PASSWORD': 'x'}"
