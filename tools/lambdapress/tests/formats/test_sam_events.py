"""Event sources in the SAM rendering: through AWS's SAM translator, the same resources.

The SAM format passes what SAM has no word for through unchanged (`formats._sam`), so queues,
topics, subscriptions, rules, buckets, mappings and their permissions come out of the
translator exactly as the CloudFormation rendering writes them; what invoked a function's
`live` alias invokes the alias SAM publishes.
"""

from __future__ import annotations

import json
import re

from deploy.event_stacks import event_application
from deploy.stacks import config

from lambdapress.deploy.template import template_body
from lambdapress.formats._sam import render_sam

from .rich import translate

EVENT_TYPES = (
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::S3::Bucket",
    "AWS::Lambda::EventSourceMapping",
    "AWS::DynamoDB::Table",
)


def test_the_translator_keeps_every_event_resource_as_cloudformation_writes_it() -> None:
    application = event_application()
    cloudformation = json.loads(template_body(application, config(), "dev", "acme-artifacts"))
    translated = translate(render_sam(application, config(), "dev", "acme-artifacts"))
    resources = translated["Resources"]
    compared = 0
    for logical_id, resource in cloudformation["Resources"].items():
        if resource["Type"] not in EVENT_TYPES and not logical_id.endswith("Permission"):
            continue
        if resource["Properties"].get("Principal") == "apigateway.amazonaws.com":
            continue  # SAM writes the routes' own permissions (test_sam_translation.py)
        # What invoked the alias `XLiveAlias` invokes the translator's `XFunctionAliaslive`.
        text = re.sub(
            r'"Ref": "(\w+)LiveAlias"', r'"Ref": "\1FunctionAliaslive"', json.dumps(resource)
        )
        assert resources[logical_id] == json.loads(text), logical_id
        compared += 1
    assert compared == 30  # every event resource of `event_stacks`
