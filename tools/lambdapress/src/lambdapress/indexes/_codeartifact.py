"""AWS CodeArtifact as a package index: an endpoint and a short-lived token from boto3.

CodeArtifact speaks the ordinary upload API and simple index once you have its repository
endpoint (`get_repository_endpoint`, format pypi) and an authorization token
(`get_authorization_token`), used as the password of the user `aws`. That exchange is all that
is CodeArtifact-specific; uploads and reads then go through the same code as any index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from pydantic import SecretStr

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import CodeArtifactIndex, ResolvedIndex

if TYPE_CHECKING:
    from mypy_boto3_codeartifact import CodeArtifactClient

CODEARTIFACT_USER = "aws"
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 20
"""Seconds: the token exchange is two small calls; an endpoint that hangs fails in a minute."""


def codeartifact_client(index: CodeArtifactIndex) -> CodeArtifactClient:
    """A boto3 CodeArtifact client for the index's region (credentials: boto3's usual chain)."""
    try:
        import boto3
    except ImportError:
        raise PackageIndexError(
            f"index {index.name!r} is a CodeArtifact repository, which needs boto3",
            hint="install boto3 next to lambdapress (pip install boto3)",
        ) from None
    from botocore.config import Config

    config = Config(
        connect_timeout=CONNECT_TIMEOUT,
        read_timeout=READ_TIMEOUT,
        retries={"total_max_attempts": 3, "mode": "standard"},
    )
    return boto3.client("codeartifact", region_name=index.region, config=config)


def resolve_codeartifact(index: CodeArtifactIndex, client: CodeArtifactClient) -> ResolvedIndex:
    """Exchange AWS credentials for the repository's endpoint and an upload token."""
    from botocore.exceptions import BotoCoreError, ClientError

    where = f"{index.domain}/{index.repository} (owner {index.domain_owner}, {index.region})"
    try:
        endpoint = client.get_repository_endpoint(
            domain=index.domain,
            domainOwner=index.domain_owner,
            repository=index.repository,
            format="pypi",
        )["repositoryEndpoint"]
        token = client.get_authorization_token(
            domain=index.domain,
            domainOwner=index.domain_owner,
            durationSeconds=index.duration_seconds,
        )["authorizationToken"]
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise PackageIndexError(
            f"CodeArtifact refused index {index.name!r} ({where}): {code}",
            hint="check domain, domain-owner, repository and region in "
            f"[tool.lambdapress.indexes.{index.name}], and that your AWS identity may call "
            "codeartifact:GetAuthorizationToken, GetRepositoryEndpoint and PublishPackageVersion "
            "(plus sts:GetServiceBearerToken)",
        ) from None
    except BotoCoreError as exc:
        raise PackageIndexError(
            f"cannot reach CodeArtifact for index {index.name!r} ({where}): {exc}",
            hint="configure AWS credentials (AWS_PROFILE or AWS_ACCESS_KEY_ID/...) and the network",
        ) from None
    upload_url = endpoint if endpoint.endswith("/") else endpoint + "/"
    return ResolvedIndex(
        name=index.name,
        kind=index.kind,
        upload_url=upload_url,
        index_url=upload_url + "simple/",
        username=CODEARTIFACT_USER,
        password=SecretStr(token),
        credentials_from="boto3 (codeartifact:GetAuthorizationToken)",
        fix_credentials="use an AWS identity allowed to publish to "
        f"{index.domain}/{index.repository}; the token lasts {index.duration_seconds} s",
    )
