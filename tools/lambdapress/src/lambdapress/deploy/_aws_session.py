"""The boto3 session every AWS call of deploy, sync, destroy, logs and drift goes through.

Its clients' timeouts and retries, the failures a call may raise, and the one wording of an
AWS failure as a `DeployError` (`error`) live here, below the calls themselves (`aws`,
`_aws_operations`), so every call fails the same way: what AWS refused, in words, and the fix,
with any secret an answer echoes redacted.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from botocore.parsers import ResponseParserError

from lambdapress.deploy._aws_errors import REGION_FIX, translate
from lambdapress.deploy._secret_values import Secrets
from lambdapress.errors import DeployError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_s3 import S3Client

# Every call has a connect and a read timeout, and a bounded number of attempts, so an endpoint
# that accepts connections and never answers fails the command in about two minutes at worst
# (instead of botocore's 60 s timeouts times many retries) with the "cannot reach" fix. Adaptive
# retries back off on throttling (CloudFormation and Lambda's control planes throttle early);
# what still fails after them is reported as throttling, with the fix. A SIGINT or SIGTERM
# ends a call made from the main thread at once (the handler raises there).
CONNECT_TIMEOUT = 5
READ_TIMEOUT = 30
CLIENT_CONFIG = Config(
    connect_timeout=CONNECT_TIMEOUT,
    read_timeout=READ_TIMEOUT,
    retries={"total_max_attempts": 4, "mode": "adaptive"},
    max_pool_connections=16,
)
MALFORMED = (ResponseParserError, KeyError)
"""An answer that is not AWS's (an endpoint or a proxy answering HTML...): botocore raises
these outside its own hierarchy (its query parser looks up the result element by key), and a
response missing a key read here is the same problem."""
FAILURES = (ClientError, BotoCoreError, *MALFORMED)
"""What a call may raise: AWS's refusals, no answer, and an answer that is not AWS's."""


class AwsSession:
    """One boto3 session and the clients deploy, sync and destroy use; thread-safe."""

    def __init__(self, secrets: Secrets) -> None:
        self.secrets = secrets
        try:
            # boto3 reads AWS_DEFAULT_REGION and the profile; AWS_REGION (what CI actions and
            # Lambda set) is honoured too.
            session = boto3.session.Session()
            if not session.region_name and os.environ.get("AWS_REGION"):
                session = boto3.session.Session(region_name=os.environ["AWS_REGION"])
        except BotoCoreError as exc:  # a profile that does not exist, a broken config file
            raise self.error("cannot start an AWS session", exc) from None
        if not session.region_name:
            raise DeployError("no AWS region configured", hint=REGION_FIX)
        self.region: str = session.region_name
        self._session = session
        self._s3: S3Client = session.client("s3", config=CLIENT_CONFIG)
        self._cfn: CloudFormationClient = session.client("cloudformation", config=CLIENT_CONFIG)
        self._lambda: LambdaClient = session.client("lambda", config=CLIENT_CONFIG)

    # -- identity ---------------------------------------------------------------------------
    def account(self) -> str:
        """The AWS account the credentials belong to (also proves they work)."""
        try:
            return self._session.client("sts", config=CLIENT_CONFIG).get_caller_identity()[
                "Account"
            ]
        except FAILURES as exc:
            raise self.error(
                "cannot check your AWS identity (sts:GetCallerIdentity)", exc
            ) from None

    # -- errors -----------------------------------------------------------------------------
    def error(self, doing: str, exc: Exception) -> DeployError:
        """A `DeployError` saying what failed and the fix, without any secret in it."""
        if isinstance(exc, MALFORMED) or not isinstance(exc, (ClientError, BotoCoreError)):
            text = f"{type(exc).__name__}: {exc}" if isinstance(exc, KeyError) else str(exc)
            said = self.secrets.redact(text.splitlines()[0] if text else "")[:200]
            return DeployError(
                f"{doing}: the answer is not one AWS sends ({said})",
                hint="check AWS_ENDPOINT_URL and any proxy between you and AWS",
            )
        return translate(doing, exc, self.secrets)
