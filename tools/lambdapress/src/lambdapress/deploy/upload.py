"""The artifact bucket and the zips in it: which keys are missing, then upload only those.

Keys are content-addressed (`<prefix>/<service>/<sha256>.zip`), so a key that exists holds
exactly the zip with that digest: nothing already there is ever uploaded again, two functions
with byte-identical zips share one object, and a deploy interrupted halfway resumes by
uploading what is still missing. Planning (HEAD per key) and uploading both run in parallel.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from lambdapress.bundle.transfers import on_daemon_threads as in_parallel
from lambdapress.config.aws_rules import BUCKET_NAME_MAX
from lambdapress.deploy.aws import Aws
from lambdapress.deploy.template_ids import PROJECT_TAG
from lambdapress.errors import DeployError
from lambdapress.model.application import Function

UploadProgress = Callable[["Artifact", int, int], None]


class Artifact(BaseModel):
    """One distinct zip and the key it lives under in the artifact bucket."""

    model_config = ConfigDict(frozen=True)

    key: str
    path: Path
    sha256: str  # hex, as the manifest records it
    size: int
    functions: tuple[str, ...]  # the manifest functions built into this very zip


class BucketPlan(BaseModel):
    """The artifact bucket: the configured one, or lambdapress's own (created if missing)."""

    model_config = ConfigDict(frozen=True)

    name: str
    create: bool


class UploadPlan(BaseModel):
    """Every zip the stack needs, and the ones the bucket does not hold yet."""

    model_config = ConfigDict(frozen=True)

    bucket: str
    artifacts: tuple[Artifact, ...]
    missing: tuple[Artifact, ...]

    @property
    def missing_bytes(self) -> int:
        """What the uploads will send."""
        return sum(a.size for a in self.missing)


def default_bucket(project: str, account: str, region: str) -> str:
    """`<project>-artifacts-<account>-<region>`, made a valid S3 bucket name (lowercase, short)."""
    suffix = f"-artifacts-{account}-{region}"
    stem = re.sub(r"[^a-z0-9-]+", "-", project.lower()).strip("-") or "lambdapress"
    return (stem[: BUCKET_NAME_MAX - len(suffix)].rstrip("-") + suffix).lower()


def plan_bucket(aws: Aws, configured: str | None, project: str, account: str) -> BucketPlan:
    """Which bucket to use; a configured one must exist (lambdapress only creates its own)."""
    if configured is not None:
        if not aws.bucket_exists(configured):
            raise DeployError(
                f"the artifact bucket {configured} does not exist",
                hint="create it, correct [tool.lambdapress.deploy] bucket, or remove the setting "
                "to let lambdapress create its own",
            )
        return BucketPlan(name=configured, create=False)
    name = default_bucket(project, account, aws.region)
    return BucketPlan(name=name, create=not aws.bucket_exists(name))


def ensure_bucket(aws: Aws, plan: BucketPlan, project: str) -> None:
    """Create lambdapress's bucket when the plan says so (private, encrypted, tagged).

    Asked again first: a large template may have needed the bucket already.
    """
    if plan.create and not aws.bucket_exists(plan.name):
        aws.create_bucket(plan.name, {PROJECT_TAG: project})


def artifacts(
    locations: Iterable[tuple[str, str]], functions: Iterable[Function], root: Path
) -> tuple[Artifact, ...]:
    """The distinct zips behind `locations` (`(function name, key)` pairs), sorted by key.

    Each zip is checked against the manifest's digest here, so a file changed since packaging
    is refused before anything is uploaded.
    """
    by_name = {f.name: f for f in functions}
    grouped: dict[str, list[Function]] = {}
    for name, key in locations:
        grouped.setdefault(key, []).append(by_name[name])
    found: list[Artifact] = []
    for key, entries in sorted(grouped.items()):
        entry = entries[0]
        path = root / entry.artifact.path
        if not path.is_file() or path.stat().st_size != entry.artifact.size:
            raise DeployError(
                f"{entry.artifact.path} is missing or differs from dist/manifest.json",
                path=path,
                hint="run `lambdapress package` again",
            )
        found.append(
            Artifact(
                key=key,
                path=path,
                sha256=entry.artifact.sha256,
                size=entry.artifact.size,
                functions=tuple(sorted(e.name for e in entries)),
            )
        )
    return tuple(found)


def plan_uploads(
    aws: Aws, bucket: BucketPlan, needed: tuple[Artifact, ...], jobs: int
) -> UploadPlan:
    """HEAD every key (in parallel); a bucket about to be created holds nothing."""
    if bucket.create:
        present = [False] * len(needed)
    else:
        present = in_parallel(lambda a: aws.object_exists(bucket.name, a.key), needed, jobs)
    missing = tuple(a for a, there in zip(needed, present, strict=True) if not there)
    return UploadPlan(bucket=bucket.name, artifacts=needed, missing=missing)


def upload(aws: Aws, plan: UploadPlan, jobs: int, progress: UploadProgress) -> None:
    """Upload the missing zips in parallel, each with its SHA-256 for S3 to check.

    On Ctrl-C the queued uploads are cancelled and the running ones finish (a PUT is whole or
    absent), so a rerun uploads exactly what is still missing.
    """
    total = len(plan.missing)
    done: list[Artifact] = []

    def one(artifact: Artifact) -> None:
        aws.put_file(plan.bucket, artifact.key, artifact.path, artifact.sha256)
        done.append(artifact)
        progress(artifact, len(done), total)

    in_parallel(one, plan.missing, jobs)
