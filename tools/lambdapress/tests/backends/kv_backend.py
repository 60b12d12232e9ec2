"""A storage backend that lives in the tests only: `kv`, a service's S3 buckets of objects.

    [tool.lambdapress.storage]
    kind = "kv"
    buckets = ["notes"]          # each function gets NOTES_BUCKET

It is built on the registry's protocol alone (`model.storage_backends`) and registered by the
test that uses it (`register_storage_backend(KV)`): nothing in the tool names it. Deployed, the
stack creates each bucket (private, encrypted, named by CloudFormation) and grants object
access to it; locally, its server is moto's (in this process, on 127.0.0.1), reached through
boto3's `AWS_ENDPOINT_URL_S3`, with the buckets named for the local stage.
"""

from __future__ import annotations

import re
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from moto.server import ThreadedMotoServer
from pydantic import BaseModel, ConfigDict, Field, field_validator

from lambdapress.errors import BundleError
from lambdapress.model.permissions import Access, Permission, resource_ref
from lambdapress.model.resources import Resource
from lambdapress.model.storage_backends import (
    EnvironmentBudget,
    LocalHost,
    LocalLookup,
    Stack,
    StackBuilder,
    StageNames,
    StorageBackend,
    StorageDeclaration,
    Unavailable,
)

ENDPOINT_ENV = "AWS_ENDPOINT_URL_S3"
OBJECT_ACTIONS = ("s3:DeleteObject", "s3:GetObject", "s3:PutObject")
BUCKET_NAME_MAX = 63  # S3's rule for every bucket name
_BUCKET = re.compile(r"^[a-z][a-z0-9]{0,15}$")


def bucket_env_name(bucket: str) -> str:
    """`notes` -> `NOTES_BUCKET`."""
    return f"{bucket.upper()}_BUCKET"


def local_bucket_name(names: StageNames, service: str, bucket: str) -> str:
    """`<project>-local-<service>-<bucket>`: S3 takes lowercase letters, digits and '-'."""
    return f"{names.project}-{names.stage}-{service}-{bucket}".replace("_", "-").lower()


class KvBucket(Resource):
    """One S3 bucket of a service's objects."""

    kind: Literal["kv-bucket"] = "kv-bucket"


class KvSettings(BaseModel):
    """`buckets`: at least one, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    buckets: list[str] = Field(min_length=1)

    @field_validator("buckets")
    @classmethod
    def _names(cls, value: list[str]) -> list[str]:
        for name in value:
            if not _BUCKET.match(name):
                raise ValueError(f"{name!r} is not a bucket name")
        return value


class KvState(BaseModel):
    """What the running `lambdapress db` records for `serve` and `invoke`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    endpoint: str
    buckets: dict[str, dict[str, str]]
    """service -> bucket -> its local name."""


@dataclass
class LocalBuckets:
    """moto's server in this process, with the services' buckets."""

    server: ThreadedMotoServer
    endpoint: str
    buckets: dict[str, dict[str, str]]

    @property
    def state(self) -> KvState:
        """The endpoint and each service's buckets."""
        return KvState(endpoint=self.endpoint, buckets=self.buckets)

    @property
    def address(self) -> str:
        """The endpoint's URL."""
        return self.endpoint

    def report(self) -> tuple[str, ...]:
        """One line for the server, one per bucket."""
        lines = [f"kv (moto's S3) on {self.endpoint}"]
        for service, buckets in sorted(self.buckets.items()):
            lines += [f"  {service}: bucket {b} = {n}" for b, n in sorted(buckets.items())]
        return tuple(lines)

    def close(self) -> None:
        """Stop moto."""
        self.server.stop()


def s3_client(endpoint: str) -> Any:
    """boto3's S3 client for a local endpoint, with fake credentials."""
    import boto3

    return boto3.session.Session().client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


class KvLocal:
    """`lambdapress db`'s part: moto's S3 with every service's buckets."""

    state_model = KvState

    def start(
        self, declarations: Sequence[StorageDeclaration[KvSettings]], host: LocalHost
    ) -> LocalBuckets:
        """Start moto on the planned port (its state reset), create the buckets."""
        host.say(f"kv (moto's S3): starting on 127.0.0.1:{host.port}")
        server = ThreadedMotoServer(ip_address="127.0.0.1", port=host.port, verbose=False)
        server.start()
        endpoint = f"http://127.0.0.1:{host.port}"
        reset = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")  # noqa: S310
        with urllib.request.urlopen(reset, timeout=10):  # noqa: S310 (http on 127.0.0.1)
            pass
        buckets = {
            d.service: {b: local_bucket_name(host.names, d.service, b) for b in d.settings.buckets}
            for d in declarations
        }
        client = s3_client(endpoint)
        for names in buckets.values():
            for name in names.values():
                client.create_bucket(Bucket=name)
        return LocalBuckets(server, endpoint, buckets)


class KvBackend:
    """`kind = "kv"`."""

    name = "kv"
    label = "the kv store"
    resource_kinds: tuple[type[Resource], ...] = (KvBucket,)
    settings_model = KvSettings
    settings_fixes: Mapping[str, str] = {
        "buckets": 'list the buckets by name: buckets = ["notes"] (lowercase letters and '
        "digits, at most 16)"
    }
    local = KvLocal()

    def check(self, declaration: StorageDeclaration[KvSettings], longest: StageNames) -> None:
        """Each bucket's local name within S3's 63 characters, for the longest project."""
        names = StageNames(longest.project, "local")
        for bucket in declaration.settings.buckets:
            name = local_bucket_name(names, declaration.service, bucket)
            if len(name) > BUCKET_NAME_MAX:
                raise BundleError(
                    f"bucket {bucket!r} of service {declaration.service} would be named "
                    f"{len(name)} characters long locally; S3 allows {BUCKET_NAME_MAX}",
                    path=declaration.pyproject,
                    line=declaration.line_of("buckets"),
                    hint="shorten the bucket's or the service's name",
                )

    def resources(self, declaration: StorageDeclaration[KvSettings]) -> tuple[KvBucket, ...]:
        """One bucket resource per declared bucket."""
        service = declaration.service
        return tuple(KvBucket(service=service, name=b) for b in declaration.settings.buckets)

    def permissions(
        self, service: str, resources: Sequence[Resource], access: Access = "write"
    ) -> tuple[Permission, ...]:
        """Object access to its buckets (GetObject alone to read), nothing else."""
        refs = tuple(resource_ref(r.id) for r in resources)
        actions = ("s3:GetObject",) if access == "read" else OBJECT_ACTIONS
        return (Permission(actions=actions, resources=refs, reason=f"kv of {service}"),)

    def deployed_environment(self, resource: Resource, stack: Stack) -> Mapping[str, object]:
        """`<BUCKET>_BUCKET`: the bucket's name, a `Ref`."""
        return {bucket_env_name(resource.name): {"Ref": _bucket_id(resource, stack)}}

    def environment_budget(self, resource: Resource, longest: StageNames) -> EnvironmentBudget:
        """A bucket's name is at most 63 characters."""
        return EnvironmentBudget(
            {bucket_env_name(resource.name): "b" * BUCKET_NAME_MAX},
            f"bucket names counted as {BUCKET_NAME_MAX} characters",
        )

    def local_environment(
        self, resources: Sequence[Resource], lookup: LocalLookup
    ) -> Mapping[str, str] | Unavailable:
        """moto's endpoint and the buckets' local names."""
        state = lookup.state if isinstance(lookup.state, KvState) else None
        endpoint = state.endpoint if state is not None else lookup.environ.get(ENDPOINT_ENV)
        if not endpoint:
            return Unavailable(self.label, ENDPOINT_ENV)
        variables = {ENDPOINT_ENV: endpoint}
        for bucket in resources:
            name = local_bucket_name(lookup.names, bucket.service, bucket.name)
            variables[bucket_env_name(bucket.name)] = name
        return variables

    def render(self, resource: Resource, stack: StackBuilder) -> None:
        """A private, encrypted bucket, named by CloudFormation."""
        stack.add(
            _bucket_id(resource, stack),
            {
                "Type": "AWS::S3::Bucket",
                "DeletionPolicy": "Delete",
                "UpdateReplacePolicy": "Delete",
                "Properties": {
                    "BucketEncryption": {
                        "ServerSideEncryptionConfiguration": [
                            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                        ]
                    },
                    "PublicAccessBlockConfiguration": {
                        "BlockPublicAcls": True,
                        "BlockPublicPolicy": True,
                        "IgnorePublicAcls": True,
                        "RestrictPublicBuckets": True,
                    },
                    "Tags": stack.tags(resource.service),
                },
            },
            f"bucket {resource.name} of service {resource.service}",
        )

    def arn(self, resource: Resource, stack: Stack) -> object | None:
        """The bucket's objects."""
        return {"Fn::Sub": f"${{{_bucket_id(resource, stack)}.Arn}}/*"}


def _bucket_id(bucket: Resource, stack: Stack) -> str:
    return stack.logical_id(f"{bucket.service}_{bucket.name}", "KvBucket")


KV: StorageBackend[KvSettings] = KvBackend()
