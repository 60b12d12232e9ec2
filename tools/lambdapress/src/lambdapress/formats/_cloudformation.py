"""The CloudFormation format: the template `deploy` deploys, as `lambdapress template` writes it.

Exactly `deploy.template.template_body`: JSON with sorted keys, the same bytes for the same
manifest and stage settings, so the file a pipeline deploys is the stack `deploy` would make.
"""

from __future__ import annotations

from lambdapress.deploy.template import template_body
from lambdapress.formats.registry import OutputFormat, register_output_format

CLOUDFORMATION = register_output_format(
    OutputFormat(
        name="cloudformation",
        suffix=".json",
        description="the CloudFormation template deploy deploys (JSON)",
        render=template_body,
    )
)
