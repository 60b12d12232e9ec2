"""A stage's data protection and encryption keys in its stack (`hardening` of the stage).

Tables of a stage that retains its data are rendered by their backend with
`DeletionPolicy`/`UpdateReplacePolicy: Retain` and point-in-time recovery (`DataProtection`,
decided here from the stage's settings). A PostgreSQL database lives outside the stack: neither
`deploy` nor `destroy` can touch it, so it needs no policy.

With `kms-key`, one customer managed key (the stage's own, `"create"`, or the team's, by ARN)
encrypts what the stack writes at rest besides the tables: every log group (`KmsKeyId`) and
every function's environment variables (`KmsKeyArn`). CloudWatch Logs encrypts with the key
only if the key's policy lets the regional logs service use it for this stage's log groups
(a created key's policy says exactly that; a team's own key must say it too: the README shows
the statement). Each function's role may decrypt with that key and no other. A key costs
$1 a month, and its use per 10,000 requests.
"""

from __future__ import annotations

import fnmatch
from typing import Any

from lambdapress.config.hardening_settings import HardeningSettings
from lambdapress.deploy._template_services import POLICY_VERSION
from lambdapress.deploy.template_ids import Resources
from lambdapress.model.resources import DELETED_WITH_STACK, KEPT_WITH_STACK
from lambdapress.model.storage_backends import DataProtection

STAGE_KEY = "StageKey"
STAGE_KEY_ALIAS = "StageKeyAlias"
# What CloudWatch Logs does with a key that encrypts a log group (AWS's documented statement).
LOGS_KEY_ACTIONS = (
    "kms:Decrypt*",
    "kms:Describe*",
    "kms:Encrypt*",
    "kms:GenerateDataKey*",
    "kms:ReEncrypt*",
)
LOGS_ARN_PREFIX = "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}"
LOGS_CONTEXT = "kms:EncryptionContext:aws:logs:arn"
"""The encryption context CloudWatch Logs names the log group in."""
ACCOUNT_ROOT = "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"
"""The key's administrator: the account, so IAM policies decide who else may use it."""
KEY_DELETION_DAYS = 30
"""How long a deleted stage's key waits before it is gone (KMS's maximum): a mistake can be
undone with CancelKeyDeletion, and logs stay readable meanwhile."""


def data_protection(hardening: HardeningSettings, production: bool) -> DataProtection:
    """The stage's tables: kept and backed up continuously on production stages by default."""
    return DataProtection(
        retain=hardening.retains_data(production),
        point_in_time_recovery=hardening.recovers_to_a_point_in_time(production),
    )


def add_stage_key(
    resources: Resources,
    hardening: HardeningSettings,
    protection: DataProtection,
    names: tuple[str, str, str],
) -> object | None:
    """The key the stage encrypts with (its ARN as an expression), or None: AWS's own keys.

    `names` is the project, the stage and the stack. A created key is kept with the data
    (`retain`): logs encrypted with a deleted key cannot be read again.
    """
    if hardening.kms_key is None:
        return None
    if not hardening.creates_key:
        return hardening.kms_key
    project, stage, stack = names
    log_groups = [
        _log_group_arn(f"/aws/lambda/{project}-{stage}-*"),
        _log_group_arn(f"/lambdapress/{stack}/*"),
    ]
    policy = {
        "Version": POLICY_VERSION,
        "Statement": [
            {
                "Sid": "TheAccountAdministersItThroughIam",
                "Effect": "Allow",
                "Principal": {
                    "AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}
                },
                "Action": "kms:*",
                "Resource": "*",
            },
            {
                "Sid": "CloudWatchLogsEncryptsTheStagesLogGroups",
                "Effect": "Allow",
                "Principal": {"Service": {"Fn::Sub": "logs.${AWS::Region}.amazonaws.com"}},
                "Action": list(LOGS_KEY_ACTIONS),
                "Resource": "*",
                "Condition": {"ArnLike": {LOGS_CONTEXT: log_groups}},
            },
        ],
    }
    key = resources.add(
        STAGE_KEY,
        {
            "Type": "AWS::KMS::Key",
            **(KEPT_WITH_STACK if protection.retain else DELETED_WITH_STACK),
            "Properties": {
                "Description": f"lambdapress: stage {stage} of project {project} (logs, variables)",
                "EnableKeyRotation": True,
                "PendingWindowInDays": KEY_DELETION_DAYS,
                "KeyPolicy": policy,
                # No Tags here: the stack's own tags (project, stage) reach the key, and moto
                # 5.2's CloudFormation fails on a key's tags (it reads TagKey, not Key).
            },
        },
        f"kms-key of stage {stage}",
    )
    resources.add(
        STAGE_KEY_ALIAS,
        {
            "Type": "AWS::KMS::Alias",
            "Properties": {"AliasName": f"alias/{project}/{stage}", "TargetKeyId": {"Ref": key}},
        },
        f"kms-key of stage {stage}",
    )
    return {"Fn::GetAtt": [key, "Arn"]}


def encrypt_with(resources: Resources, key: object) -> None:
    """Every log group and every function's variables under `key`; each role may decrypt.

    Applied to the rendered stack, so a log group or a function any part of the template adds
    is covered without knowing about keys: a created key's policy gains the name of a log group
    outside its two patterns (CloudWatch Logs refuses a key its policy does not grant).
    """
    granted = _logs_grant(resources)
    for _, group in resources.of_type("AWS::Logs::LogGroup"):
        group["Properties"]["KmsKeyId"] = key
        name = group["Properties"].get("LogGroupName")
        if granted is not None and isinstance(name, str):
            patterns = [arn["Fn::Sub"].partition(":log-group:")[2] for arn in granted]
            if not any(fnmatch.fnmatchcase(name, pattern) for pattern in patterns):
                granted.append(_log_group_arn(name))
    roles = dict(resources.of_type("AWS::IAM::Role"))
    for _, function in resources.of_type("AWS::Lambda::Function"):
        properties = function["Properties"]
        properties["KmsKeyArn"] = key
        role = properties.get("Role", {}).get("Fn::GetAtt", [None])[0]
        if role in roles:
            _may_decrypt(roles[role], key)


def _log_group_arn(name: str) -> dict[str, str]:
    """A log group's ARN as the logs service's encryption context names it (a pattern may)."""
    return {"Fn::Sub": f"{LOGS_ARN_PREFIX}:log-group:{name}"}


def _logs_grant(resources: Resources) -> list[dict[str, str]] | None:
    """The log groups the created key's policy lets CloudWatch Logs use it for.

    None: the stage has no key of the stack's own (a team's key's policy is the team's).
    """
    for logical_id, key in resources.of_type("AWS::KMS::Key"):
        if logical_id == STAGE_KEY:
            statement = key["Properties"]["KeyPolicy"]["Statement"][1]
            arns: list[dict[str, str]] = statement["Condition"]["ArnLike"][LOGS_CONTEXT]
            return arns
    return None


def _may_decrypt(role: dict[str, Any], key: object) -> None:
    """Its one policy (`add_role`) gains kms:Decrypt on the key.

    Lambda decrypts the function's variables as the execution role at each cold start.
    """
    statement = {"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key]}
    statements = role["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    if statement not in statements:
        statements.append(statement)
