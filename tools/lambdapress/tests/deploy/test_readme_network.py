"""The README's "Private networks, RDS Proxy and custom domains": its tables and commands, run.

The README's TOML is appended to a workspace's root pyproject (the deploy tests' `shop`, its
service on PostgreSQL) and its commands run against moto's server, where the test first makes
what the README says is the platform's: the subnets behind the SSM parameter, the database
user's secret, the service's database secret. What differs from the README, and only that:
the secret's ARN, whose random suffix Secrets Manager chooses, the security group's ID, which
EC2 chooses (`deploy` checks that it exists), and `uv run lambdapress` run as `lambdapress` in
this process.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import boto3
import pytest

from lambdapress.cli import main

REPOSITORY = Path(__file__).resolve().parents[4]
README = REPOSITORY / "README.md"


def _blocks() -> tuple[str, list[str]]:
    """The section's TOML and its commands (comments removed)."""
    text = README.read_text()
    section = text[text.index("### Private networks") :]
    section = section[: section.index("\n### ", 1)]
    blocks = re.findall(r"^```[\w-]*\n(.*?)^```", section, re.S | re.M)
    toml = next(b for b in blocks if "[tool.lambdapress.deploy.stages.prod.network]" in b)
    commands = next(b for b in blocks if "lambdapress template --stage prod" in b)
    lines = [line.split("  #")[0].strip() for line in commands.splitlines() if line.strip()]
    return toml, lines


def _client(name: str) -> Any:
    return boto3.client(name)


@pytest.mark.e2e
def test_the_readmes_network_section_runs_as_written(
    shop: Path, moto_server: object, capsys: pytest.CaptureFixture[str]
) -> None:
    toml, commands = _blocks()
    assert [c.split()[:4] for c in commands] == [
        ["uv", "run", "lambdapress", "template"],
        ["uv", "run", "lambdapress", "deploy"],
    ]
    ec2 = _client("ec2")
    vpc = ec2.create_vpc(CidrBlock="10.30.0.0/16")["Vpc"]["VpcId"]
    subnets = [
        ec2.create_subnet(VpcId=vpc, CidrBlock=f"10.30.{n}.0/24")["Subnet"]["SubnetId"]
        for n in (1, 2)
    ]
    group = ec2.create_security_group(GroupName="lambda", Description="x", VpcId=vpc)["GroupId"]
    _client("ssm").put_parameter(
        Name="/acme/prod/private-subnets", Type="StringList", Value=",".join(subnets)
    )
    secrets = _client("secretsmanager")
    arn = secrets.create_secret(Name="acme/prod/db", SecretString='{"username": "app"}')["ARN"]
    secrets.create_secret(Name="shop/prod/shop/database-url", SecretString="postgresql://x/shop")
    readme_arn = re.search(r'secret-arn = "([^"]+)"', toml)
    readme_group = re.search(r'security-groups = \["([^"]+)"\]', toml)
    assert readme_arn is not None
    assert readme_group is not None
    service = shop / "services" / "shop" / "pyproject.toml"
    service.write_text(
        service.read_text(encoding="utf-8") + '\n[tool.lambdapress.storage]\nkind = "postgres"\n',
        encoding="utf-8",
    )
    root = shop / "pyproject.toml"
    root.write_text(
        root.read_text(encoding="utf-8")
        + "\n"
        + toml.replace(readme_arn[1], arn).replace(readme_group[1], group),
        encoding="utf-8",
    )
    assert main(["package", "--root", str(shop)]) == 0
    capsys.readouterr()

    # lambdapress template --stage prod
    assert main([*commands[0].split()[3:], "--root", str(shop)]) == 0
    out, err = capsys.readouterr()
    assert "template of stack shop-prod" in out
    assert "warning" not in err  # endpoints = ["secretsmanager"] covers what they call
    document = json.loads((shop / "dist" / "cloudformation" / "shop-prod.json").read_text())
    resources = document["Resources"]
    functions = [r for r in resources.values() if r["Type"] == "AWS::Lambda::Function"]
    assert functions
    for function in functions:
        properties = function["Properties"]
        assert properties["VpcConfig"]["SubnetIds"] == {"Ref": "NetworkSubnets"}
        assert properties["Environment"]["Variables"]["DATABASE_PROXY_HOST"] == {
            "Fn::GetAtt": ["DatabaseProxy", "Endpoint"]
        }
    assert resources["DatabaseProxy"]["Properties"]["Auth"][0]["SecretArn"] == arn
    assert document["Outputs"]["ApiDomainUrl"]["Value"] == "https://api.acme.example/v1"

    # lambdapress deploy --stage prod --plan
    assert main([*commands[1].split()[3:], "--root", str(shop)]) == 0
    out, err = capsys.readouterr()
    for logical_id, kind in [
        ("DatabaseProxy", "AWS::RDS::DBProxy"),
        ("DatabaseProxyTargetGroup", "AWS::RDS::DBProxyTargetGroup"),
        ("ApiDomainName", "AWS::ApiGatewayV2::DomainName"),
        ("ApiDomainMapping", "AWS::ApiGatewayV2::ApiMapping"),
    ]:
        assert re.search(rf"^add\s+{logical_id}\s+{re.escape(kind)}", out, re.M), out
    assert "plan only: the change set was deleted" in out
