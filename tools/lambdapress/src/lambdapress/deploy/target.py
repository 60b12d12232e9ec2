"""What deploy and sync start from: the project on disk, then the same project seen from AWS.

`load_target` reads only files (settings, manifest) and fails on a bad stage or an empty
manifest before any AWS call; `connect` then checks the credentials, picks the artifact bucket
and builds the template for it, so every later step works from one frozen picture.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from lambdapress.config.workspace import find_root
from lambdapress.deploy._secret_values import Secrets
from lambdapress.deploy.aws import TEMPLATE_BODY_LIMIT, Aws
from lambdapress.deploy.config import DeployConfig, check_stage, load_deploy_config
from lambdapress.deploy.template import StackTemplate, build_template
from lambdapress.deploy.template_ids import stage_tags
from lambdapress.deploy.upload import (
    Artifact,
    BucketPlan,
    artifacts,
    ensure_bucket,
    plan_bucket,
)
from lambdapress.errors import DeployError
from lambdapress.model.application import Application
from lambdapress.model.manifest import manifest_path, read_manifest


@dataclass(frozen=True)
class Target:
    """One stage of the project, as the files describe it (no AWS yet)."""

    root: Path
    stage: str
    config: DeployConfig
    manifest: Application

    @property
    def stack_name(self) -> str:
        """`<project>-<stage>`."""
        return self.config.stack_name(self.stage)

    @property
    def tags(self) -> dict[str, str]:
        """The stack's tags; CloudFormation copies them onto every resource that takes tags."""
        return stage_tags(self.config.project, self.stage)


@dataclass(frozen=True)
class Connected:
    """A target seen from AWS: the account, the artifact bucket, the template and its zips."""

    target: Target
    aws: Aws
    account: str
    bucket: BucketPlan
    template: StackTemplate
    artifacts: tuple[Artifact, ...]

    def artifacts_of(self, functions: set[str]) -> tuple[Artifact, ...]:
        """The zips of these manifest functions."""
        return tuple(a for a in self.artifacts if functions.intersection(a.functions))


def load_target(root: Path, stage: str, manifest: Application | None = None) -> Target:
    """The stage's settings and the manifest (read from dist/ unless given).

    Nothing of the services is read: the manifest is what was built, and all deploy needs.
    """
    root = find_root(root)
    config = load_deploy_config(root)
    check_stage(stage)
    if manifest is None:
        manifest = read_manifest(manifest_path(root))
    if not manifest.functions:
        raise DeployError(
            "nothing to deploy: the manifest has no functions",
            path=manifest_path(root),
            hint="add a service with handlers (nox -s new -- service NAME), then package",
        )
    return Target(root, stage, config, manifest)


def connect(target: Target) -> Connected:
    """Check the credentials (STS), choose the bucket, build the template and list its zips."""
    secrets = Secrets.gather(*(f.environment for f in target.manifest.functions))
    aws = Aws(secrets)
    account = aws.account()
    bucket = plan_bucket(aws, target.config.bucket, target.config.project, account)
    template = build_template(target.manifest, target.config, target.stage, bucket.name)
    needed = artifacts(
        ((f.function, f.code.key) for f in template.functions),
        target.manifest.functions,
        target.root,
    )
    return Connected(target, aws, account, bucket, template, needed)


def template_source(connected: Connected) -> dict[str, str]:
    """`TemplateBody`, or a `TemplateURL` in the artifact bucket for a template too large.

    The key is content-addressed like the zips', so a large template is uploaded once.
    """
    body = connected.template.body
    if len(body.encode("utf-8")) <= TEMPLATE_BODY_LIMIT:
        return {"TemplateBody": body}
    ensure_bucket(connected.aws, connected.bucket, connected.target.config.project)
    digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
    key = (
        f"{connected.target.config.prefix}/templates/{connected.template.stack_name}/{digest}.json"
    )
    return {"TemplateURL": connected.aws.put_text(connected.bucket.name, key, body)}
