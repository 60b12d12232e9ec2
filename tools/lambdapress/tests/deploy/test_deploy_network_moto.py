"""A production stage in a private network, deployed to moto's server (EC2, SSM, CloudFormation).

The network is the team's: the test makes a VPC, two subnets and a security group in moto's
EC2 and publishes the subnets in an SSM parameter, as a platform team would; the stage names
the subnets by parameter and the security group by ID. `deploy --plan` warns about the
functions that call S3 without an endpoint, and `deploy` places the PostgreSQL functions in
the network (their `VpcConfig` read back from Lambda), keeps the one that says `vpc = false`
out, and gives the placed ones' roles the network-interface actions.

What moto cannot show: its CloudFormation has no `AWS::RDS::DBProxy` (nor any
`AWS::ApiGatewayV2::*`), and a function variable naming the proxy's endpoint then fails the
stack, so the proxy is checked in the template (test_template_network.py: its properties, its
role, the functions' `rds-db:connect`; cfn-lint), and so is the custom domain. Its URL is an
output, which `deploy` prints with the others; moto reports no outputs for a stack made
through a change set, so that line is not seen here. IDs from another stack's
export (`Fn::ImportValue`) are not deployed here either: moto resolves exports for
`CreateStack` but not for a stack created through a change set, as `deploy` creates it; the
template test lints that form.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.cli import main
from lambdapress.deploy.template_network import ENI_ACTIONS

STAGE = "prod"
STACK = f"shop-{STAGE}"


def _client(name: str) -> Any:
    return boto3.client(name)


def _network() -> tuple[list[str], str]:
    """A VPC's two subnets and a security group."""
    ec2 = _client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.20.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2)
    ]
    group = ec2.create_security_group(GroupName="lambda", Description="x", VpcId=vpc)["GroupId"]
    return subnets, group


def _configure(root: Path, group: str) -> None:
    """PostgreSQL storage, `audit` out of the network, an S3 read; the stage's tables."""
    service = root / "services" / "shop" / "pyproject.toml"
    service.write_text(
        service.read_text(encoding="utf-8") + '\n[tool.lambdapress.storage]\nkind = "postgres"\n\n'
        "[tool.lambdapress.functions.audit]\nvpc = false\n\n"
        '[[tool.lambdapress.iam.statements]]\nactions = ["s3:GetObject"]\n'
        'resources = ["arn:aws:s3:::shop-imports/*"]\n',
        encoding="utf-8",
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8")
        + f"""
[tool.lambdapress.deploy.stages.prod.network]
subnets = {{ ssm = "/shop/prod/subnets" }}
security-groups = ["{group}"]
""",
        encoding="utf-8",
    )


def _role_actions(function_name: str) -> set[str]:
    iam = _client("iam")
    role = _client("lambda").get_function_configuration(FunctionName=function_name)["Role"]
    name = role.rpartition("/")[2]
    actions: set[str] = set()
    for policy in iam.list_role_policies(RoleName=name)["PolicyNames"]:
        document = iam.get_role_policy(RoleName=name, PolicyName=policy)["PolicyDocument"]
        if isinstance(document, str):  # moto keeps a stack's inline policy as the dict's repr
            document = ast.literal_eval(document)
        for statement in document["Statement"]:
            listed = statement["Action"]
            actions.update([listed] if isinstance(listed, str) else listed)
    return actions


@pytest.mark.e2e
def test_postgres_functions_deploy_into_the_stage_network(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    subnets, group = _network()
    _configure(shop, group)
    _client("secretsmanager").create_secret(
        Name="shop/prod/shop/database-url", SecretString="postgresql://app@db.internal/shop"
    )

    # The parameter the subnets are read from does not exist yet: named before any change.
    code = main(["deploy", "--stage", STAGE, "--plan", "--root", str(shop)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "parameter /shop/prod/subnets does not exist (used by Parameters.NetworkSubnets)" in err
    assert "aws ssm put-parameter --name /shop/prod/subnets" in err
    assert _client("cloudformation").list_stacks()["StackSummaries"] == []

    _client("ssm").put_parameter(
        Name="/shop/prod/subnets", Type="StringList", Value=",".join(subnets)
    )
    code = main(["deploy", "--stage", STAGE, "--plan", "--root", str(shop)])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "plan: create stack shop-prod" in out
    warnings = [line for line in err.splitlines() if line.startswith("warning: function")]
    assert len(warnings) == 2, err  # greet and stock: both in the network, both read S3
    assert all("calls s3" in w and "nat = true" in w for w in warnings)
    assert not any("shop.audit" in w for w in warnings)  # outside the network: it reaches S3

    code = main(["deploy", "--stage", STAGE, "--yes", "--root", str(shop)])
    _, err = capsys.readouterr()
    assert code == 0, err
    lambdas = _client("lambda")
    for handler in ("greet", "stock"):
        config = lambdas.get_function_configuration(FunctionName=f"{STACK}-shop-{handler}")
        assert sorted(config["VpcConfig"]["SubnetIds"]) == sorted(subnets)
        assert config["VpcConfig"]["SecurityGroupIds"] == [group]
        assert set(ENI_ACTIONS) <= _role_actions(f"{STACK}-shop-{handler}")
    audit = lambdas.get_function_configuration(FunctionName=f"{STACK}-shop-audit")
    assert not audit.get("VpcConfig", {}).get("SubnetIds")
    assert not set(ENI_ACTIONS) & _role_actions(f"{STACK}-shop-audit")


@pytest.mark.e2e
def test_a_network_that_cannot_hold_the_functions_stops_deploy_before_any_change(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    subnets, _ = _network()
    ec2 = _client("ec2")
    other = ec2.create_vpc(CidrBlock="10.40.0.0/16")["Vpc"]["VpcId"]
    elsewhere = ec2.create_security_group(GroupName="x", Description="x", VpcId=other)["GroupId"]
    _configure(shop, elsewhere)
    pyproject = shop / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(
        text.replace(
            'subnets = { ssm = "/shop/prod/subnets" }',
            f'subnets = ["{subnets[0]}", "subnet-0123456789abcdef0"]',
        ),
        encoding="utf-8",
    )
    _client("secretsmanager").create_secret(
        Name="shop/prod/shop/database-url", SecretString="postgresql://app@db.internal/shop"
    )
    code = main(["deploy", "--stage", STAGE, "--plan", "--root", str(shop)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "the network of stage prod cannot hold its functions; nothing was changed" in err
    assert "subnet subnet-0123456789abcdef0 does not exist" in err
    assert f"security group {elsewhere} is in {other}, not in the subnets' VPC" in err
    assert "[tool.lambdapress.deploy.stages.prod.network]" in err
    assert _client("cloudformation").list_stacks()["StackSummaries"] == []

    # Subnets from an export no stack makes: named, with the fix.
    pyproject.write_text(
        text.replace(
            'subnets = { ssm = "/shop/prod/subnets" }',
            'subnets = { import = "shared-vpc-PrivateSubnets" }',
        ),
        encoding="utf-8",
    )
    code = main(["deploy", "--stage", STAGE, "--plan", "--no-build", "--root", str(shop)])
    _, err = capsys.readouterr()
    assert code == 1
    assert "the export shared-vpc-PrivateSubnets, which no stack" in err
