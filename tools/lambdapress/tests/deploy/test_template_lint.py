"""cfn-lint, the real linter, finds nothing in templates with every feature on, or none.

Informational checks are included and nothing is ignored. The example platform's and a
rendered project's templates are linted end to end in template/tests/test_deploy_template.py.
"""

import json

from lambdapress.deploy.template import template_body
from lambdapress.formats._sam import render_sam

from .event_stacks import event_application
from .stacks import config, entry, lint_findings, render, service

EVERYTHING = [
    service(
        "customers",
        {
            "storage": {
                "kind": "dynamodb",
                "tables": {
                    "customers": {"partition_key": "id"},
                    "audit_log": {"partition_key": "customer", "sort_key": "at"},
                },
            },
            "iam": {
                "statements": [
                    {
                        "actions": ["s3:GetObject"],
                        "resources": ["arn:${AWS::Partition}:s3:::acme-uploads/*"],
                    },
                    {
                        "actions": ["xray:PutTraceSegments"],
                        "resources": ["*"],
                        "allow_wildcard": True,
                    },
                    {"effect": "Deny", "actions": ["s3:Delete*"], "resources": ["*"]},
                ]
            },
            "functions": {
                "get_customer": {
                    "reserved_concurrency": 5,
                    "warm_every_minutes": 5,
                    "provisioned_concurrency": 2,
                },
                "list_customers": {"warm_every_minutes": 1},
            },
        },
    ),
    service("orders", {"storage": {"kind": "postgres"}, "bundle": "service"}),
]
FUNCTIONS = [
    entry("customers.get_customer", "GET /customers/{customer_id}"),
    entry("customers.list_customers", "GET /customers", architecture="x86_64"),
    entry("customers.nightly"),
    entry(
        "orders.api",
        "GET /",
        "GET /orders",
        "POST /orders",
        "GET /orders/{order_id}",
        "DELETE /orders/{order_id}",
        "ANY /orders/{proxy+}",
        runtime="python3.13",
    ),
]
CORS = {
    "allow-origins": ["https://app.example.com"],
    "allow-headers": ["content-type"],
    "expose-headers": ["x-request-id"],
    "max-age": 600,
    "allow-credentials": True,
}


def test_every_feature_on_lints_clean() -> None:
    document = render(FUNCTIONS, EVERYTHING, config(cors=CORS, **{"log-retention-days": 365}))
    assert lint_findings(json.dumps(document)) == []


def test_the_smallest_stack_lints_clean() -> None:
    document = render([entry("shop.ping", "GET /ping")], [service("shop")], bucket=None)
    assert lint_findings(json.dumps(document)) == []


def test_the_linter_does_report_a_broken_template() -> None:
    """The two tests above would pass with a linter that finds nothing: this one would not."""
    document = render([entry("shop.ping", "GET /ping")], [service("shop")])
    document["Resources"]["ShopPingFunction"]["Properties"]["MemorySize"] = 100_000
    document["Resources"]["HttpApiDefaultStage"]["Properties"]["ApiId"] = {"Ref": "Nothing"}
    findings = lint_findings(json.dumps(document))
    assert any(f.startswith("E3034: 100000 is greater than the maximum") for f in findings)
    assert any(f.startswith("E1020: 'Nothing' is not one of") for f in findings)


def test_every_event_source_lints_clean_in_both_formats() -> None:
    """Queues (FIFO, dead-letter, subscribed), topics, a bus, a bucket with notifications, a
    table stream, and a trigger of each kind: CloudFormation and SAM alike."""
    application = event_application()
    body = template_body(application, config(), "dev", "acme-artifacts")
    assert lint_findings(body) == []
    assert lint_findings(render_sam(application, config(), "dev", "acme-artifacts")) == []


def test_the_linter_sees_the_cycle_a_bucket_reference_would_make() -> None:
    """Why buckets are named, never referred to (`deploy._event_refs`): this would not deploy."""
    document = json.loads(template_body(event_application(), config(), "dev", "acme-artifacts"))
    variables = document["Resources"]["ImportsLoadFunction"]["Properties"]["Environment"]
    variables["Variables"]["UPLOADS_BUCKET_NAME"] = {"Ref": "ImportsUploadsBucket"}
    findings = lint_findings(json.dumps(document))
    assert any(f.startswith("E3004: Circular Dependencies") for f in findings), findings
