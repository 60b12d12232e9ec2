"""Deploying to AWS: the CloudFormation template of a stage, and the commands that drive it.

`config` reads `[tool.lambdapress.deploy]`; `template` (with its `template_*` parts) turns the
manifest and the settings into a template without touching disk or AWS.
"""
