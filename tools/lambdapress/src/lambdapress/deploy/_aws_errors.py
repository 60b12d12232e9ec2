"""boto3's exceptions as one `DeployError` line and its fix, without any secret in it.

Credentials, region, access and throttling problems each get the fix a user can apply; any
other refusal quotes AWS's message (scrubbed by `Secrets`) and its error code.
"""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from lambdapress.deploy._secret_values import Secrets
from lambdapress.errors import DeployError

NOT_FOUND = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchBucket", "ResourceNotFoundException"})
_ACCESS_DENIED = frozenset(
    {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "403", "Forbidden"}
)
_THROTTLED = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "SlowDown",
    }
)
_BAD_CREDENTIALS = frozenset(
    {
        "InvalidAccessKeyId",
        "InvalidClientTokenId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "ExpiredToken",
        "ExpiredTokenException",
    }
)
CREDENTIALS_FIX = (
    "configure AWS credentials: AWS_PROFILE=... (aws sso login), or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY"
)
REGION_FIX = "set AWS_REGION (or AWS_DEFAULT_REGION), or a region in your AWS profile"


def translate(doing: str, exc: ClientError | BotoCoreError, secrets: Secrets) -> DeployError:
    """boto3's exception as one line and a fix: credentials, region, access, throttling."""
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError", "CredentialRetrievalError"):
        return DeployError(f"{doing}: no AWS credentials found", hint=CREDENTIALS_FIX)
    if name == "NoRegionError":
        return DeployError(f"{doing}: no AWS region configured", hint=REGION_FIX)
    if name == "ProfileNotFound":
        return DeployError(
            f"{doing}: {secrets.redact(str(exc))}",
            hint="check AWS_PROFILE against ~/.aws/config",
        )
    if name in ("SSOTokenLoadError", "UnauthorizedSSOTokenError", "TokenRetrievalError"):
        return DeployError(f"{doing}: the SSO session has expired", hint="run `aws sso login`")
    if not isinstance(exc, ClientError):
        return DeployError(
            f"{doing}: cannot reach AWS ({name})",
            hint="check the network (or AWS_ENDPOINT_URL) and the region",
        )
    error_code = code(exc)
    said = secrets.redact(message(exc))
    if error_code in _ACCESS_DENIED:
        return DeployError(
            f"{doing}: access denied ({said or error_code})",
            hint="allow the action to your AWS identity (the README's Deploy section lists the "
            "permissions), or use another profile",
        )
    if error_code in _THROTTLED:
        return DeployError(
            f"{doing}: AWS throttled the requests even after retrying ({error_code})",
            hint="run the command again in a minute; other deploys in the account compete for "
            "the same limits",
        )
    if error_code in _BAD_CREDENTIALS:
        return DeployError(
            f"{doing}: AWS does not accept the credentials ({error_code})", hint=CREDENTIALS_FIX
        )
    return DeployError(f"{doing}: {said or error_code} ({error_code})")


def code(exc: ClientError) -> str:
    """The error code AWS answered with (`AccessDenied`, `404`...)."""
    return str(exc.response.get("Error", {}).get("Code", "error"))


def message(exc: ClientError) -> str:
    """AWS's message (unscrubbed: pass it through `Secrets.redact` before showing it)."""
    return str(exc.response.get("Error", {}).get("Message", ""))
