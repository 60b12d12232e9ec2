"""cfn-lint, every check on (informational ones included), finds nothing in either format.

cfn-lint reads SAM templates itself (it validates `AWS::Serverless::*` against SAM's schemas),
so the SAM rendering is linted as written, and again as the translator turns it into
CloudFormation (test_sam_translation.py). The example platform's templates, both formats, are
linted end to end in template/tests/test_deploy_template.py.
"""

from __future__ import annotations

import json

import pytest
import yaml
from deploy.stacks import application, config, entry, lint_findings, service

from lambdapress.formats.registry import output_format

from .rich import BUCKET, rich_application, rich_config

FORMATS = ["cloudformation", "sam"]


@pytest.mark.parametrize("name", FORMATS)
def test_the_rich_stack_lints_clean(name: str) -> None:
    body = output_format(name).render(rich_application(), rich_config(), "dev", BUCKET)
    assert lint_findings(body) == []


@pytest.mark.parametrize("name", FORMATS)
def test_the_smallest_stack_lints_clean(name: str) -> None:
    """No bucket (no default for `ArtifactBucket`), no table, no alias, one route."""
    model = application([entry("shop.ping", "GET /ping")], [service("shop")])
    assert lint_findings(output_format(name).render(model, config(), "prod", None)) == []


def test_the_linter_does_report_a_broken_sam_template() -> None:
    """The tests above would pass with a linter blind to SAM: this one would not."""
    document = yaml.safe_load(
        output_format("sam").render(rich_application(), rich_config(), "dev", BUCKET)
    )
    function = document["Resources"]["OrdersApiFunction"]["Properties"]
    function["MemorySize"] = 100_000
    rule = document["Resources"]["CustomersGetCustomerWarmUpRule"]["Properties"]
    rule["Targets"][0]["Arn"] = {"Ref": "CustomersGetCustomerLiveAlias"}  # the CFN alias
    findings = lint_findings(json.dumps(document))
    assert any(f.startswith("E3034: 100000 is greater than the maximum") for f in findings)
    assert any(
        f.startswith("E3030: 'CustomersGetCustomerLiveAlias' is not one of") for f in findings
    )
