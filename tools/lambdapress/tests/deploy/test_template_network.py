"""A stage's network, database proxy and domain in its template (`deploy.template_network`)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from formats.rich import translate

from lambdapress.bundle.pipeline import package
from lambdapress.cli import main
from lambdapress.deploy.template_network import (
    DATABASE_PROXY_HOST_ENV,
    ENI_ACTIONS,
    ENI_DESCRIBE_ACTIONS,
    ENI_WRITE_ACTIONS,
    network_warnings,
)
from lambdapress.deploy.template_observability import XRAY_ACTIONS
from lambdapress.errors import ConfigError
from lambdapress.formats._sam import render_sam
from lambdapress.model.application import Application, Function
from lambdapress.model.trigger_kinds import trigger_permissions

from .event_stacks import event_application
from .stacks import application, config, entry, lint_findings, of_type, render, service

SUBNETS = ["subnet-0a1b2c3d4e5f60718", "subnet-0f1e2d3c4b5a69788"]
GROUPS = ["sg-0123456789abcdef0"]
SECRET = "arn:aws:secretsmanager:us-east-1:123456789012:secret:acme/prod/db-AbCdEf"
CERTIFICATE = "arn:aws:acm:us-east-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
ORDERS = service("orders", {"storage": {"kind": "postgres"}})
CUSTOMERS = service(
    "customers",
    {
        "storage": {"kind": "dynamodb", "tables": {"customers": {"partition_key": "id"}}},
        "functions": {"get_customer": {"vpc": True}},
    },
)
FUNCTIONS = [
    entry("orders.get_order", "GET /orders/{order_id}"),
    entry("orders.create_order", "POST /orders"),
    entry("customers.get_customer", "GET /customers/{customer_id}"),
    entry("customers.list_customers", "GET /customers"),
]
NETWORK = {"subnets": SUBNETS, "security-groups": GROUPS}
PROXY = {"proxy": True, "instance": "acme-prod", "secret-arn": SECRET, "user": "app"}
DOMAIN = {"name": "api.example.com", "certificate-arn": CERTIFICATE, "base-path": "v1"}


def _prod(**tables: Any) -> Any:
    return config(stages={"prod": tables})


def _statements(document: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = document["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def _functions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in of_type(document, "AWS::Lambda::Function").items()}


def test_postgres_functions_and_those_saying_vpc_run_in_the_network() -> None:
    document = render(FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=NETWORK), stage="prod")
    placed = {k: p.get("VpcConfig") for k, p in _functions(document).items()}
    expected = {"SubnetIds": SUBNETS, "SecurityGroupIds": GROUPS}
    assert placed == {
        "OrdersGetOrderFunction": expected,
        "OrdersCreateOrderFunction": expected,
        "CustomersGetCustomerFunction": expected,  # vpc = true
        "CustomersListCustomersFunction": None,  # DynamoDB only: outside, faster and free
    }
    eni = [
        {"Effect": "Allow", "Action": list(ENI_DESCRIBE_ACTIONS), "Resource": "*"},
        {
            "Effect": "Allow",
            "Action": list(ENI_WRITE_ACTIONS),
            "Resource": {
                "Fn::Sub": "arn:${AWS::Partition}:ec2:${AWS::Region}:${AWS::AccountId}:*/*"
            },
        },
    ]
    # The prod stage also traces: X-Ray's statement comes last (template_observability).
    xray = {"Effect": "Allow", "Action": list(XRAY_ACTIONS), "Resource": "*"}
    for role in ("OrdersGetOrderRole", "CustomersGetCustomerRole"):
        assert _statements(document, role)[-3:] == [*eni, xray]
    assert not [s for s in _statements(document, "CustomersListCustomersRole") if s in eni]
    # Only what IAM cannot scope is granted on "*": the two Describe actions (and X-Ray's).
    starred = {a for s in _statements(document, "OrdersGetOrderRole") if s["Resource"] == "*"
               for a in s["Action"]}  # fmt: skip
    assert starred == set(ENI_DESCRIBE_ACTIONS) | set(XRAY_ACTIONS)


def test_a_stage_without_network_places_nothing_and_grants_no_eni_actions() -> None:
    document = render(FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=NETWORK), stage="dev")
    assert all("VpcConfig" not in p for p in _functions(document).values())
    actions = {a for r in of_type(document, "AWS::IAM::Role") for s in _statements(document, r)
               for a in s["Action"]}  # fmt: skip
    assert not actions & set(ENI_ACTIONS)


def test_vpc_false_keeps_a_postgres_function_out() -> None:
    orders = service(
        "orders", {"storage": {"kind": "postgres"}, "functions": {"get_order": {"vpc": False}}}
    )
    document = render(FUNCTIONS, [orders, CUSTOMERS], _prod(network=NETWORK), stage="prod")
    functions = _functions(document)
    assert "VpcConfig" not in functions["OrdersGetOrderFunction"]
    assert "VpcConfig" in functions["OrdersCreateOrderFunction"]


def test_ids_from_an_export_and_from_ssm_parameters() -> None:
    network = {"subnets": {"import": "shared-vpc-PrivateSubnets"}, "security-groups":
               {"ssm": "/acme/prod/lambda-security-groups"}}  # fmt: skip
    document = render(FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=network), stage="prod")
    vpc = _functions(document)["OrdersGetOrderFunction"]["VpcConfig"]
    assert vpc["SubnetIds"] == {
        "Fn::Split": [",", {"Fn::ImportValue": "shared-vpc-PrivateSubnets"}]
    }
    assert vpc["SecurityGroupIds"] == {"Ref": "NetworkSecurityGroups"}
    parameter = document["Parameters"]["NetworkSecurityGroups"]
    assert parameter["Type"] == "AWS::SSM::Parameter::Value<List<AWS::EC2::SecurityGroup::Id>>"
    assert parameter["Default"] == "/acme/prod/lambda-security-groups"
    assert "NetworkSubnets" not in document["Parameters"]
    assert lint_findings(json.dumps(document)) == []


def test_the_proxy_with_iam_auth_its_role_and_what_postgres_functions_get() -> None:
    document = render(
        FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=NETWORK, database=PROXY), stage="prod"
    )
    proxy = document["Resources"]["DatabaseProxy"]["Properties"]
    assert proxy["DBProxyName"] == "acme-prod"
    assert proxy["EngineFamily"] == "POSTGRESQL"
    assert proxy["RequireTLS"] is True
    assert proxy["Auth"] == [{"AuthScheme": "SECRETS", "IAMAuth": "REQUIRED", "SecretArn": SECRET}]
    assert proxy["VpcSubnetIds"] == SUBNETS
    assert proxy["VpcSecurityGroupIds"] == GROUPS
    targets = document["Resources"]["DatabaseProxyTargetGroup"]["Properties"]
    assert targets["DBInstanceIdentifiers"] == ["acme-prod"]
    assert targets["TargetGroupName"] == "default"
    role = _statements(document, "DatabaseProxyRole")
    assert role == [
        {"Effect": "Allow", "Action": ["secretsmanager:GetSecretValue"], "Resource": [SECRET]}
    ]
    trust = document["Resources"]["DatabaseProxyRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"][0]["Principal"] == {"Service": "rds.amazonaws.com"}

    functions = _functions(document)
    variables = functions["OrdersGetOrderFunction"]["Environment"]["Variables"]
    assert variables[DATABASE_PROXY_HOST_ENV] == {"Fn::GetAtt": ["DatabaseProxy", "Endpoint"]}
    connect = [s for s in _statements(document, "OrdersGetOrderRole")
               if s["Action"] == ["rds-db:connect"]]  # fmt: skip
    assert len(connect) == 1
    template, values = connect[0]["Resource"][0]["Fn::Sub"]
    assert template.endswith(":dbuser:${ProxyId}/app")
    assert values["ProxyId"]["Fn::Select"][1]["Fn::Split"][1] == {
        "Fn::GetAtt": ["DatabaseProxy", "DBProxyArn"]
    }
    # The DynamoDB function in the network gets neither the host nor the right to connect.
    customer = functions["CustomersGetCustomerFunction"]["Environment"]["Variables"]
    assert DATABASE_PROXY_HOST_ENV not in customer
    assert all(s["Action"] != ["rds-db:connect"]
               for s in _statements(document, "CustomersGetCustomerRole"))  # fmt: skip
    assert lint_findings(json.dumps(document)) == []


def test_a_cluster_behind_the_proxy() -> None:
    database = {**PROXY, "cluster": "acme-aurora", "max-connections-percent": 80}
    del database["instance"]
    document = render(
        FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=NETWORK, database=database), stage="prod"
    )
    targets = document["Resources"]["DatabaseProxyTargetGroup"]["Properties"]
    assert targets["DBClusterIdentifiers"] == ["acme-aurora"]
    assert "DBInstanceIdentifiers" not in targets
    assert targets["ConnectionPoolConfigurationInfo"] == {"MaxConnectionsPercent": 80}


def test_no_postgres_function_no_proxy() -> None:
    functions = [f for f in FUNCTIONS if f.service == "customers"]
    document = render(functions, [CUSTOMERS], _prod(network=NETWORK, database=PROXY), stage="prod")
    assert of_type(document, "AWS::RDS::DBProxy") == {}


def test_a_postgres_function_kept_out_of_the_network_cannot_use_the_proxy() -> None:
    orders = service(
        "orders", {"storage": {"kind": "postgres"}, "functions": {"get_order": {"vpc": False}}}
    )
    with pytest.raises(ConfigError) as caught:
        render(FUNCTIONS, [orders, CUSTOMERS], _prod(network=NETWORK, database=PROXY), "prod")
    assert "orders.get_order" in str(caught.value)
    assert "[tool.lambdapress.functions.get_order]" in (caught.value.hint or "")


def test_the_proxy_host_set_by_hand_clashes() -> None:
    functions = [
        entry("orders.get_order", "GET /o", environment={DATABASE_PROXY_HOST_ENV: "x"}),
    ]
    with pytest.raises(ConfigError, match=DATABASE_PROXY_HOST_ENV):
        render(functions, [ORDERS], _prod(network=NETWORK, database=PROXY), "prod")


def test_the_domain_its_mapping_record_and_url_output() -> None:
    domain = {**DOMAIN, "hosted-zone-id": "Z0123456789ABCDEFGHIJ"}
    document = render(FUNCTIONS, [ORDERS, CUSTOMERS], _prod(domain=domain), stage="prod")
    resources = document["Resources"]
    name = resources["ApiDomainName"]["Properties"]
    assert name["DomainName"] == "api.example.com"
    assert name["DomainNameConfigurations"] == [
        {"CertificateArn": CERTIFICATE, "EndpointType": "REGIONAL", "SecurityPolicy": "TLS_1_2"}
    ]
    mapping = resources["ApiDomainMapping"]["Properties"]
    assert mapping == {
        "ApiId": {"Ref": "HttpApi"},
        "DomainName": {"Ref": "ApiDomainName"},
        "Stage": {"Ref": "HttpApiDefaultStage"},
        "ApiMappingKey": "v1",
    }
    record = resources["ApiDomainRecord"]["Properties"]
    assert record["AliasTarget"]["DNSName"] == {
        "Fn::GetAtt": ["ApiDomainName", "RegionalDomainName"]
    }
    assert document["Outputs"]["ApiDomainUrl"]["Value"] == "https://api.example.com/v1"
    assert lint_findings(json.dumps(document)) == []


def test_a_domain_without_routes_is_refused() -> None:
    with pytest.raises(ConfigError, match="no HTTP routes"):
        render([entry("orders.nightly")], [ORDERS], _prod(domain=DOMAIN), "prod")


def test_everything_lints_in_sam_too() -> None:
    """VpcConfig, the proxy and the domain pass through SAM; the mapping names SAM's stage."""
    model = application(FUNCTIONS, [ORDERS, CUSTOMERS])
    settings = _prod(network=NETWORK, database=PROXY, domain=DOMAIN)
    body = render_sam(model, settings, "prod", "acme-artifacts")
    assert lint_findings(body) == []
    translated = translate(body)
    mapping = of_type(translated, "AWS::ApiGatewayV2::ApiMapping")["ApiDomainMapping"]
    assert mapping["Properties"]["Stage"] == {"Ref": "HttpApiApiGatewayDefaultStage"}
    functions = of_type(translated, "AWS::Lambda::Function")
    vpc = functions["OrdersGetOrderFunction"]["Properties"]["VpcConfig"]
    assert vpc == {"SubnetIds": SUBNETS, "SecurityGroupIds": GROUPS}
    assert "VpcConfig" not in functions["CustomersListCustomersFunction"]["Properties"]
    assert "DatabaseProxy" in translated["Resources"]


def test_warnings_name_the_function_and_the_apis_the_network_lacks() -> None:
    model = application(FUNCTIONS, [ORDERS, CUSTOMERS])
    warnings = network_warnings(model, _prod(network=NETWORK), "prod")
    # customers.get_customer is in the network (vpc = true) and uses DynamoDB; the PostgreSQL
    # functions read their database's secret at run time (Secrets Manager).
    by_function = {w.split()[1]: w for w in warnings}
    assert sorted(by_function) == [
        "customers.get_customer",
        "orders.create_order",
        "orders.get_order",
    ]
    assert "calls dynamodb " in by_function["customers.get_customer"]
    assert 'endpoints = ["dynamodb"]' in by_function["customers.get_customer"]
    assert "calls secretsmanager " in by_function["orders.get_order"]
    declared = {**NETWORK, "endpoints": ["dynamodb", "secretsmanager"]}
    assert network_warnings(model, _prod(network=declared), "prod") == ()
    assert network_warnings(model, _prod(network={**NETWORK, "nat": True}), "prod") == ()
    assert network_warnings(model, _prod(network=NETWORK), "dev") == ()


def test_template_writes_the_warnings_on_stderr(
    bare_workspace: Callable[[dict[str, str]], Path], capsys: pytest.CaptureFixture[str]
) -> None:
    """`lambdapress template`: the template on disk, each warning a line of its own."""
    root = bare_workspace({"services/shop/src/shop/handlers/ping.py": "def handler(e, c): ..."})
    service = root / "services" / "shop" / "pyproject.toml"
    service.write_text(
        service.read_text(encoding="utf-8") + "\n[tool.lambdapress.functions.ping]\nvpc = true\n\n"
        '[[tool.lambdapress.iam.statements]]\nactions = ["sqs:SendMessage"]\n'
        'resources = ["arn:aws:sqs:us-east-1:123456789012:orders"]\n',
        encoding="utf-8",
    )
    pyproject = root / "pyproject.toml"
    pyproject.write_text(
        pyproject.read_text(encoding="utf-8") + "\n[tool.lambdapress.deploy.stages.prod.network]\n"
        f"subnets = {json.dumps(SUBNETS)}\nsecurity-groups = {json.dumps(GROUPS)}\n",
        encoding="utf-8",
    )
    package(root, jobs=1)
    assert main(["template", "--stage", "prod", "--root", str(root)]) == 0
    out, err = capsys.readouterr()
    assert "template of stack shop-prod" in out
    (warning,) = err.splitlines()
    assert warning.startswith("warning: function shop.ping runs in stage prod's network")
    assert "calls sqs" in warning
    written = json.loads((root / "dist" / "cloudformation" / "shop-prod.json").read_text())
    assert "VpcConfig" in written["Resources"]["ShopPingFunction"]["Properties"]
    assert main(["template", "--stage", "dev", "--root", str(root)]) == 0
    assert capsys.readouterr().err == ""


def test_what_an_event_source_mapping_polls_needs_no_endpoint() -> None:
    """A queue consumer in the network: Lambda polls its queue, its code calls nothing."""
    events = event_application()

    def placed(function: Function) -> Function:
        permissions = function.permissions
        if {t.kind for t in function.triggers} <= {"sqs", "dynamodb-stream"}:
            # What `package` grants for these triggers (the test stacks' are hand-made).
            permissions = (permissions[0], *trigger_permissions(function.name, function.triggers))
        capacity = function.capacity.model_copy(update={"vpc": True})
        return function.model_copy(update={"capacity": capacity, "permissions": permissions})

    model = Application(
        functions=tuple(placed(f) for f in events.functions), resources=events.resources
    )
    warned = {w.split()[1]: w for w in network_warnings(model, _prod(network=NETWORK), "prod")}
    # workers.consume drains a queue, inventory.changes reads a stream: nothing to warn about.
    assert "workers.consume" not in warned
    assert "inventory.changes" not in warned
    # imports.load reads the objects its bucket reports: its code calls S3.
    assert "calls s3 " in warned["imports.load"]
    assert "calls events, s3, sns, sqs " in warned["orders.place_order"]


def test_a_secret_under_a_key_of_the_teams_lets_the_proxy_decrypt_through_secrets_manager() -> None:
    key = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    database = {**PROXY, "kms-key-arn": key}
    document = render(
        FUNCTIONS, [ORDERS, CUSTOMERS], _prod(network=NETWORK, database=database), stage="prod"
    )
    decrypt = _statements(document, "DatabaseProxyRole")[1]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Resource"] == [key]
    assert decrypt["Condition"]["StringEquals"]["kms:ViaService"] == {
        "Fn::Sub": "secretsmanager.${AWS::Region}.amazonaws.com"
    }
    assert lint_findings(json.dumps(document)) == []
