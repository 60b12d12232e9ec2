"""CodeArtifact: the token/endpoint exchange through botocore's Stubber (moto has no
CodeArtifact), then a real upload to a local index standing in for the repository."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from lambdapress.errors import PackageIndexError
from lambdapress.indexes.config import CodeArtifactIndex
from lambdapress.indexes.credentials import resolve_index
from lambdapress.publish._simple import project_files
from lambdapress.publish._upload import upload_files
from lambdapress.publish.pypiserver import write_htpasswd

INDEX = CodeArtifactIndex.model_validate(
    {
        "name": "company",
        "kind": "codeartifact",
        "domain": "acme",
        "domain-owner": "123456789012",
        "repository": "python",
        "region": "eu-west-1",
        "duration-seconds": 1800,
    }
)


def stubbed_client(endpoint: str, token: str) -> tuple[Any, Stubber]:
    client = boto3.client("codeartifact", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_response(
        "get_repository_endpoint",
        {"repositoryEndpoint": endpoint},
        {"domain": "acme", "domainOwner": "123456789012", "repository": "python", "format": "pypi"},
    )
    stubber.add_response(
        "get_authorization_token",
        {"authorizationToken": token, "expiration": "2030-01-01T00:00:00Z"},
        {"domain": "acme", "domainOwner": "123456789012", "durationSeconds": 1800},
    )
    return client, stubber


def test_exchange_then_upload_with_the_token(index_server: Any, dists: Any, tmp_path: Any) -> None:
    # CodeArtifact's user is always `aws`: let the local index accept `aws` with the token
    # (pypiserver rereads its htpasswd file when it changes).
    token = index_server.password
    write_htpasswd(index_server.server.plan.htpasswd, "aws", token)
    endpoint = index_server.url.rstrip("/")  # CodeArtifact's endpoint has no trailing slash
    client, stubber = stubbed_client(endpoint, token)
    with stubber:
        resolved = resolve_index(INDEX, client=client)
        stubber.assert_no_pending_responses()
    assert (resolved.upload_url, resolved.index_url) == (
        index_server.url,
        index_server.url + "simple/",
    )
    assert resolved.basic_auth() == ("aws", token)
    assert token not in repr(resolved)
    built = dists("demo-models", "2.0.0")
    upload_files(resolved, [f.path for f in built.files], tmp_path / "pyproject.toml")
    assert {f.filename for f in project_files(resolved, "demo-models")} == {
        built.wheel.filename,
        built.sdist.filename,
    }


def test_refusal_names_the_repository_and_the_permissions() -> None:
    client = boto3.client("codeartifact", region_name="eu-west-1")
    stubber = Stubber(client)
    stubber.add_client_error(
        "get_repository_endpoint", service_error_code="AccessDeniedException", http_status_code=403
    )
    with stubber, pytest.raises(PackageIndexError) as caught:
        resolve_index(INDEX, client=client)
    error = caught.value
    assert error.message == (
        "CodeArtifact refused index 'company' (acme/python (owner 123456789012, eu-west-1)): "
        "AccessDeniedException"
    )
    assert "codeartifact:GetAuthorizationToken" in str(error.hint)
