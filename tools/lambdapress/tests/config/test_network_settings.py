"""A stage's `network`, `database` and `domain` tables: read, and mistakes named with the fix."""

from pathlib import Path

import pytest

from lambdapress.config.deploy_settings import FunctionDeploySettings
from lambdapress.config.network_settings import FromExport, FromParameter
from lambdapress.deploy.config import load_deploy_config
from lambdapress.errors import ConfigError

SECRET = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:acme/prod/db-AbCdEf"
CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
NETWORK = """
[tool.lambdapress.deploy.stages.prod.network]
subnets = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c"]
security-groups = { import = "shared-vpc-LambdaSecurityGroup" }
endpoints = ["dynamodb", "secretsmanager"]
"""


def _root(tmp_path: Path, table: str) -> Path:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.lambdapress.deploy]\nproject = "acme"\n' + table, encoding="utf-8"
    )
    return tmp_path


def test_a_whole_production_stage_is_read(tmp_path: Path) -> None:
    table = (
        NETWORK
        + f"""
[tool.lambdapress.deploy.stages.prod.database]
proxy = true
cluster = "acme-prod"
secret-arn = "{SECRET}"
user = "app"

[tool.lambdapress.deploy.stages.prod.domain]
name = "api.example.com"
certificate-arn = "{CERTIFICATE}"
base-path = "v1"
"""
    )
    settings = load_deploy_config(_root(tmp_path, table)).stage_settings("prod")
    assert settings.network is not None
    assert settings.network.subnets == ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c"]
    assert settings.network.security_groups == FromExport(export="shared-vpc-LambdaSecurityGroup")
    assert settings.network.endpoints == ["dynamodb", "secretsmanager"]
    assert settings.network.nat is False
    assert settings.database is not None
    assert (settings.database.cluster, settings.database.user) == ("acme-prod", "app")
    assert settings.domain is not None
    assert settings.domain.url == "https://api.example.com/v1"
    # Another stage has none of it.
    assert load_deploy_config(tmp_path).stage_settings("dev").network is None


def test_ids_from_an_ssm_parameter(tmp_path: Path) -> None:
    table = """
[tool.lambdapress.deploy.stages.prod.network]
subnets = { ssm = "/acme/prod/subnets" }
security-groups = ["sg-0123456789abcdef0"]
"""
    network = load_deploy_config(_root(tmp_path, table)).stage_settings("prod").network
    assert network is not None
    assert network.subnets == FromParameter(ssm="/acme/prod/subnets")


@pytest.mark.parametrize(
    ("table", "words"),
    [
        (NETWORK.replace("subnet-0f1e2d3c", "subnet-xyz"), ["'subnet-xyz' is not a subnet ID",
                                                           "network", "toml:5"]),
        (NETWORK.replace("dynamodb", "dynamo"), ["endpoints", "dynamo"]),
        (NETWORK.replace("import", "imports"), ["security-groups"]),
        (NETWORK + "nats = true\n", ["nats", "security-groups ="]),
        (
            f'[tool.lambdapress.deploy.stages.prod.database]\nproxy = true\ninstance = "db"\n'
            f'secret-arn = "{SECRET}"\nuser = "app"\n',
            ["database.proxy needs the stage's network table"],
        ),
        (
            NETWORK + "[tool.lambdapress.deploy.stages.prod.database]\nproxy = true\n",
            ["set instance or cluster"],
        ),
        (
            NETWORK + '[tool.lambdapress.deploy.stages.prod.database]\nproxy = true\n'
            'instance = "db"\n',
            ["a proxy needs secret-arn and user"],
        ),
        (
            '[tool.lambdapress.deploy.stages.prod.domain]\nname = "api.example.com"\n'
            'certificate-arn = "arn:aws:iam::123456789012:server-certificate/x"\n',
            ["is not an ACM certificate's ARN", "certificate-arn"],
        ),
        (
            f'[tool.lambdapress.deploy.stages.prod.domain]\nname = "api.example.com"\n'
            f'certificate-arn = "{CERTIFICATE}"\nbase-path = "/v1"\n',
            ["is not a base path"],
        ),
    ],
)  # fmt: skip
def test_mistakes_name_the_file_the_key_and_the_fix(
    tmp_path: Path, table: str, words: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(_root(tmp_path, table))
    message = str(caught.value)
    assert "pyproject.toml" in message
    assert "stages" in message
    for word in words:
        assert word in message, message


def test_a_function_says_whether_it_joins_the_network() -> None:
    assert FunctionDeploySettings.model_validate({"vpc": False}).vpc is False
    assert FunctionDeploySettings.model_validate({}).vpc is None
    with pytest.raises(ValueError, match="vpc"):
        FunctionDeploySettings.model_validate({"vpc": "yes"})


def test_the_fix_names_only_the_stage_table_at_fault(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_deploy_config(_root(tmp_path, NETWORK.replace("subnet-0f1e2d3c", "subnet-xyz")))
    hint = caught.value.hint or ""
    assert hint.startswith("network: write subnets = ")
    assert "certificate-arn" not in hint  # the domain's fix is not this mistake's
