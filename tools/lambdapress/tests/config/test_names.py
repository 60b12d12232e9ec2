"""The name rules of `lambdapress new` and copier.yml's validators are the same rules.

copier.yml cannot import Python, so its validators are Jinja; these tests render each of them
for the same names and compare the verdict with `lambdapress.config.names`, and compare its
`reserved_names` list with the table.
"""

from __future__ import annotations

import keyword
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2.sandbox import SandboxedEnvironment

from lambdapress.config.names import (
    DISTRIBUTION_PATTERN,
    IDENTIFIER_PATTERN,
    MAX_PACKAGE_NAME,
    MAX_SERVICE_NAME,
    RESERVED_NAMES,
    import_name,
    is_reserved,
)

COPIER = yaml.safe_load((Path(__file__).resolve().parents[4] / "copier.yml").read_text())
# One YAML string in copier.yml (copier parses it once, as it does here).
COPIER_RESERVED = yaml.safe_load(COPIER["reserved_names"]["default"])
SAMPLES = [
    "orders", "line_items", "a", "x1", "orders2", "Orders", "1orders", "_orders", "orders-api",
    "acme-models", "acme--models", "acme-", "-acme", "acme_models", "billing-models-2", "os",
    "json", "typing", "boto3", "pydantic", "pydantic-core", "aws-lambda-powertools", "tests",
    "match", "case", "type", "lambda", "class", "asyncio", "aifc", "lambdapress", "zoneinfo",
    "", "ümlaut", "orders.api", "lambda-api", "lambdapress_runtime", "psycopg", "pytest",
    "a" * 24, "a" * 25, "a" * 30, "a" * 31, "a-" * 15 + "b",
]  # fmt: skip


def _refused_by_copier(question: str, value: str) -> bool:
    """Whether copier's validator of `question` refuses `value` (it renders a message)."""
    context: dict[str, Any] = {
        question: value,
        "reserved_names": COPIER_RESERVED,
        "_copier_conf": {"data": {}, "dst_path": "/tmp/x"},
        "_external_data": {},
        # copied from an absolute path, as a project must be (its validator checks that too)
        "_copier_answers": {"_src_path": "/srv/lambdapress"},
    }
    template = SandboxedEnvironment().from_string(COPIER[question]["validator"])
    return bool(template.render(context).strip())


@pytest.mark.parametrize("name", SAMPLES)
def test_service_names_follow_copiers_resource_rule(name: str) -> None:
    refused = not IDENTIFIER_PATTERN.match(name) or is_reserved(name)
    refused = refused or len(name) > MAX_SERVICE_NAME
    assert _refused_by_copier("resource", name) == refused


@pytest.mark.parametrize("name", SAMPLES)
def test_package_names_follow_copiers_package_name_rule(name: str) -> None:
    refused = not DISTRIBUTION_PATTERN.match(name) or is_reserved(import_name(name))
    refused = refused or len(name) > MAX_PACKAGE_NAME
    assert _refused_by_copier("package_name", name) == refused


@pytest.mark.parametrize("name", SAMPLES)
def test_project_names_follow_copiers_project_name_rule(name: str) -> None:
    assert _refused_by_copier("project_name", name) == (not DISTRIBUTION_PATTERN.match(name))


def test_copiers_reserved_names_are_the_table() -> None:
    assert sorted(RESERVED_NAMES) == COPIER_RESERVED


def test_the_table_covers_this_pythons_keywords_and_standard_library() -> None:
    public = {n for n in sys.stdlib_module_names if n.isidentifier() and n.islower()}
    public = {n for n in public if not n.startswith("_")}
    keywords = {k for k in keyword.kwlist + keyword.softkwlist if k.islower() and k != "_"}
    assert sorted((public | keywords) - RESERVED_NAMES) == []
