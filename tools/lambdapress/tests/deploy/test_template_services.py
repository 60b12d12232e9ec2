"""One least-privilege role per function; tables and databases come with their variables."""

from typing import Any

import pytest

from lambdapress.backends.dynamodb import DYNAMODB_ITEM_ACTIONS, DYNAMODB_READ_ACTIONS
from lambdapress.errors import ConfigError
from lambdapress.model.permissions import LOG_ACTIONS

from .stacks import entry, of_type, render, service

CUSTOMERS = service(
    "customers",
    {
        "storage": {
            "kind": "dynamodb",
            "tables": {
                "customers": {"partition_key": "id"},
                "audit_log": {"partition_key": "customer", "sort_key": "at"},
            },
        },
        "iam": {
            "statements": [
                {
                    "actions": ["s3:GetObject"],
                    "resources": ["arn:${AWS::Partition}:s3:::acme-uploads/*"],
                }
            ]
        },
    },
)
BILLING = service(
    "billing", {"storage": {"kind": "dynamodb", "tables": {"invoices": {"partition_key": "id"}}}}
)
ORDERS = service("orders", {"storage": {"kind": "postgres"}})
FUNCTIONS = [
    entry("customers.get_customer", "GET /customers/{customer_id}"),
    entry("customers.list_customers", "GET /customers"),
    entry("billing.pay", "POST /pay"),
    entry("orders.get_order", "GET /orders/{order_id}"),
]


def _statements(document: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = document["Resources"][role]["Properties"]["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


def _referenced(statement: dict[str, Any]) -> set[str]:
    return {r["Fn::GetAtt"][0] for r in statement["Resource"] if "Fn::GetAtt" in r}


def test_one_role_per_function_trusted_by_lambda_only() -> None:
    document = render(FUNCTIONS, [CUSTOMERS, BILLING, ORDERS])
    assert sorted(of_type(document, "AWS::IAM::Role")) == [
        "BillingPayRole",
        "CustomersGetCustomerRole",
        "CustomersListCustomersRole",
        "OrdersGetOrderRole",
    ]
    trust = document["Resources"]["OrdersGetOrderRole"]["Properties"]["AssumeRolePolicyDocument"]
    assert trust["Statement"] == [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ]
    functions = of_type(document, "AWS::Lambda::Function")
    roles = {k: f["Properties"]["Role"]["Fn::GetAtt"][0] for k, f in functions.items()}
    assert roles == {
        "BillingPayFunction": "BillingPayRole",
        "CustomersGetCustomerFunction": "CustomersGetCustomerRole",
        "CustomersListCustomersFunction": "CustomersListCustomersRole",
        "OrdersGetOrderFunction": "OrdersGetOrderRole",
    }


def test_each_role_reaches_its_own_log_group_and_its_services_tables_only() -> None:
    document = render(FUNCTIONS, [CUSTOMERS, BILLING, ORDERS])
    logs, tables, declared = _statements(document, "CustomersListCustomersRole")
    assert logs["Action"] == list(LOG_ACTIONS)
    assert _referenced(logs) == {"CustomersListCustomersLogGroup"}  # not its sibling's
    assert tables["Action"] == list(DYNAMODB_READ_ACTIONS)  # GET /customers: reads only
    assert _referenced(tables) == {"CustomersAuditLogTable", "CustomersCustomersTable"}
    assert declared == {
        "Effect": "Allow",
        "Action": ["s3:GetObject"],
        "Resource": [{"Fn::Sub": "arn:${AWS::Partition}:s3:::acme-uploads/*"}],
    }
    billing = _statements(document, "BillingPayRole")
    assert [_referenced(s) for s in billing] == [{"BillingPayLogGroup"}, {"BillingInvoicesTable"}]
    assert billing[1]["Action"] == list(DYNAMODB_ITEM_ACTIONS)  # POST /pay: writes
    orders, database = _statements(document, "OrdersGetOrderRole")  # PostgreSQL: its secret
    assert _referenced(orders) == {"OrdersGetOrderLogGroup"}
    assert database["Action"] == ["secretsmanager:GetSecretValue"]
    granted = [
        s for role in of_type(document, "AWS::IAM::Role") for s in _statements(document, role)
    ]
    assert "*" not in [resource for s in granted for resource in s["Resource"]]
    assert [a for s in granted for a in s["Action"] if "*" in a] == []


def test_tables_are_on_demand_with_the_declared_keys() -> None:
    document = render(FUNCTIONS, [CUSTOMERS, BILLING, ORDERS])
    audit = document["Resources"]["CustomersAuditLogTable"]["Properties"]
    assert audit["TableName"] == "acme-dev-customers-audit-log"
    assert audit["BillingMode"] == "PAY_PER_REQUEST"
    assert audit["KeySchema"] == [
        {"AttributeName": "customer", "KeyType": "HASH"},
        {"AttributeName": "at", "KeyType": "RANGE"},
    ]
    assert audit["AttributeDefinitions"] == [
        {"AttributeName": "customer", "AttributeType": "S"},
        {"AttributeName": "at", "AttributeType": "S"},
    ]
    invoices = document["Resources"]["BillingInvoicesTable"]["Properties"]
    assert invoices["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    assert sorted(of_type(document, "AWS::DynamoDB::Table")) == [
        "BillingInvoicesTable",
        "CustomersAuditLogTable",
        "CustomersCustomersTable",
    ]


def test_functions_find_their_tables_by_variable() -> None:
    document = render(FUNCTIONS, [CUSTOMERS, BILLING, ORDERS])
    variables = document["Resources"]["CustomersListCustomersFunction"]["Properties"][
        "Environment"
    ]["Variables"]
    assert variables["CUSTOMERS_TABLE"] == {"Ref": "CustomersCustomersTable"}
    assert variables["AUDIT_LOG_TABLE"] == {"Ref": "CustomersAuditLogTable"}
    assert variables["POWERTOOLS_SERVICE_NAME"] == "customers"  # the manifest's stay
    billing = document["Resources"]["BillingPayFunction"]["Properties"]["Environment"]["Variables"]
    assert "CUSTOMERS_TABLE" not in billing


def test_postgres_functions_get_the_secrets_name_and_may_read_exactly_that_secret() -> None:
    document = render(FUNCTIONS, [CUSTOMERS, BILLING, ORDERS])
    variables = document["Resources"]["OrdersGetOrderFunction"]["Properties"]["Environment"][
        "Variables"
    ]
    assert variables["DATABASE_SECRET_NAME"] == "acme/dev/orders/database-url"
    assert variables["DATABASE_SECRET_MAX_AGE"] == "300"
    assert "DATABASE_URL" not in variables and "resolve:" not in str(document)
    customers = document["Resources"]["CustomersGetCustomerFunction"]["Properties"]["Environment"]
    assert "DATABASE_SECRET_NAME" not in customers["Variables"]
    reads = [
        s for s in _statements(document, "OrdersGetOrderRole") if "logs:" not in s["Action"][0]
    ]
    assert reads == [
        {
            "Effect": "Allow",
            "Action": ["secretsmanager:GetSecretValue"],
            "Resource": [
                {
                    "Fn::Sub": "arn:${AWS::Partition}:secretsmanager:${AWS::Region}:"
                    "${AWS::AccountId}:secret:acme/dev/orders/database-url-??????"
                }
            ],
        }
    ]


def test_a_variable_the_stack_provides_cannot_also_be_set_by_hand() -> None:
    hand_set = entry("orders.get_order", environment={"DATABASE_SECRET_NAME": "mine"})
    with pytest.raises(ConfigError) as caught:
        render([hand_set], [ORDERS])
    text = str(caught.value)
    assert "function orders.get_order sets DATABASE_SECRET_NAME in its environment" in text
    assert (
        "fix: remove DATABASE_SECRET_NAME from [tool.lambdapress.environment] of service orders"
        in text
    )


def test_a_table_declared_with_a_stream_has_one() -> None:
    inventory = service(
        "inventory",
        {
            "storage": {
                "kind": "dynamodb",
                "tables": {
                    "stock": {"partition_key": "sku", "stream": "NEW_AND_OLD_IMAGES"},
                    "prices": {"partition_key": "sku"},
                },
            }
        },
    )
    document = render([entry("inventory.get", "GET /stock")], [inventory])
    stock = document["Resources"]["InventoryStockTable"]["Properties"]
    assert stock["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert "StreamSpecification" not in document["Resources"]["InventoryPricesTable"]["Properties"]
