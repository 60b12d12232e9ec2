"""The example platform's production stack in moto's server: least privilege, kept data.

`lambdapress deploy --stage prod` of the packaged example, then each function's role as IAM
holds it (ListRolePolicies/GetRolePolicy) is compared with the model: every statement is one
permission of the function in the manifest, its resources the ARNs AWS reports for what the
permission names (DescribeTable, GetQueueAttributes, ListTopics, DescribeLogGroups), plus
kms:Decrypt on the stage's key (`hardening.kms-key = "create"`), and nothing else. Then
`destroy --stage prod` deletes the stack and keeps the tables (DeletionPolicy Retain), saying
so.

What moto does not do, and so what this cannot show: it creates the HTTP API's resources not
at all (skipped with a warning), and it does not enforce IAM: that the read-only roles cannot
write is IAM's behaviour; here the statements are compared, not exercised.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.backends.dynamodb import physical_table_name
from lambdapress.backends.postgres import database_secret_name
from lambdapress.cli import main
from lambdapress.deploy.template_ids import log_group_name, physical_function_name
from lambdapress.model.application import Application, Function
from lambdapress.model.event_names import physical_name

pytestmark = pytest.mark.e2e

PROJECT, STAGE = "acme", "prod"
README = Path(__file__).resolve().parents[2] / "README.md"
SECTION = "### Defaults a security review expects"


def readme_commands() -> list[tuple[list[str], list[str]]]:
    """The section's console block: each `$ lambdapress ...` with the lines shown after it."""
    text = README.read_text(encoding="utf-8")
    section = text[text.index(SECTION) :]
    block = re.search(r"^```console\n(.*?)^```$", section, re.M | re.S)
    assert block is not None
    shown = re.findall(r"^\$ lambdapress ([^\n]*)\n((?:(?!\$ )[^\n]*\n)*)", block.group(1), re.M)
    return [(shlex.split(command), output.splitlines()) for command, output in shown]


@pytest.fixture
def endpoint(moto_server: Any, monkeypatch: pytest.MonkeyPatch) -> str:
    """moto's server, found by boto3 and by lambdapress through `AWS_ENDPOINT_URL`; its
    CloudFormation creates the functions' aliases and alarms (`moto_cloudformation`)."""
    import moto_cloudformation

    moto_cloudformation.register(monkeypatch)
    host, port = moto_server.get_host_and_port()
    url = f"http://{host}:{port}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", url)
    return url


def _resolve(ref: str, application: Application) -> str:
    """The ARN AWS reports for what a permission of the model names."""
    kind, _, target = ref.partition(":")
    if kind == "log-group":
        name = log_group_name(physical_function_name(PROJECT, STAGE, target))
        (group,) = boto3.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        # DescribeLogGroups ends the ARN with `:*` (its streams); moto's Fn::GetAtt does not.
        return str(group["arn"]).removesuffix(":*")
    resource = application.resource(target)
    if resource.kind == "dynamodb-table":
        table = physical_table_name(PROJECT, STAGE, resource.service, resource.name)
        return str(boto3.client("dynamodb").describe_table(TableName=table)["Table"]["TableArn"])
    if resource.kind == "postgres-database":  # its URL's secret, any of its versions' suffixes
        account = boto3.client("sts").get_caller_identity()["Account"]
        secret = database_secret_name(PROJECT, STAGE, resource.service)
        return f"arn:aws:secretsmanager:us-east-1:{account}:secret:{secret}-??????"
    name = physical_name(PROJECT, STAGE, resource)
    if resource.kind == "sqs-queue":
        sqs = boto3.client("sqs")
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
        return str(attributes["Attributes"]["QueueArn"])
    if resource.kind == "sns-topic":
        topics = boto3.client("sns").list_topics()["Topics"]
        (arn,) = [t["TopicArn"] for t in topics if t["TopicArn"].endswith(f":{name}")]
        return str(arn)
    raise AssertionError(f"no resolver for {ref}")


def _role_statements(function: Function) -> list[dict[str, Any]]:
    """The statements of the function's execution role, as IAM holds them."""
    name = physical_function_name(PROJECT, STAGE, function.name)
    role_arn = boto3.client("lambda").get_function(FunctionName=name)["Configuration"]["Role"]
    role = role_arn.rpartition("/")[2]
    iam = boto3.client("iam")
    statements = []
    for policy in iam.list_role_policies(RoleName=role)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=role, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):  # moto's CloudFormation keeps Python's repr of it
            document = ast.literal_eval(document)
        statements += document["Statement"]
    return statements


def test_each_role_holds_exactly_its_functions_permissions_and_prod_keeps_its_tables(
    packaged_examples: tuple[Path, Application],
    endpoint: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    root, manifest = packaged_examples
    boto3.client("secretsmanager").create_secret(
        Name=f"{PROJECT}/{STAGE}/orders/database-url",
        SecretString="postgresql://orders@db.internal:5432/orders",
    )

    (deploy, _), (destroy, kept_lines) = readme_commands()
    assert deploy == ["deploy", "--stage", STAGE, "--no-build", "--yes"]
    assert destroy == ["destroy", "--stage", STAGE, "--yes"]

    code = main([*deploy, "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err

    (key,) = boto3.client("kms").list_keys()["Keys"]
    for function in manifest.functions:
        expected = [
            {
                "Effect": p.effect,
                "Action": list(p.actions),
                "Resource": [_resolve(r, manifest) for r in p.resources],
            }
            for p in function.permissions
        ]
        # The prod stage traces (its observability table): X-Ray's two actions, on "*" as IAM
        # requires for them; then the stage key's.
        expected.append(
            {
                "Effect": "Allow",
                "Action": ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
                "Resource": "*",
            }
        )
        expected.append({"Effect": "Allow", "Action": ["kms:Decrypt"], "Resource": [key["KeyArn"]]})
        assert _role_statements(function) == expected, function.name
        read_only = function.routes and all(r.method == "GET" for r in function.routes)
        granted = {a for s in expected for a in s["Action"]}
        if read_only:
            assert not {"dynamodb:PutItem", "dynamodb:DeleteItem"} & granted, function.name

    lam = boto3.client("lambda")
    for function in manifest.functions:
        configuration = lam.get_function(
            FunctionName=physical_function_name(PROJECT, STAGE, function.name)
        )
        reserved = configuration.get("Concurrency", {}).get("ReservedConcurrentExecutions")
        # orders (PostgreSQL): (100 - 10 held back) // its 5 functions; DynamoDB ones: no cap.
        assert reserved == (18 if function.service == "orders" else None), function.name

    tables = boto3.client("dynamodb").list_tables()["TableNames"]
    assert tables == ["acme-prod-customers-customers", "acme-prod-fulfilment-shipments"]

    code = main([*destroy, "--root", str(root)])
    out, err = capsys.readouterr()
    assert code == 0, err
    # The README's lines, exactly those about kept resources, in its order.
    key_id = key["KeyId"]
    said = [line.replace(key_id, "<key-id>") for line in out.splitlines()]
    about_kept = [line for line in said if line.startswith(("plan: keep ", "kept "))]
    assert [line for line in about_kept if not line.startswith("kept bucket")] == kept_lines
    assert len(kept_lines) == 6 and all(t in out for t in tables)
    assert boto3.client("dynamodb").list_tables()["TableNames"] == tables
    stacks = boto3.client("cloudformation").list_stacks()["StackSummaries"]
    assert {s["StackStatus"] for s in stacks if s["StackName"] == "acme-prod"} == {
        "DELETE_COMPLETE"
    }
