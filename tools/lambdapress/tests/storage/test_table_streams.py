"""A table declared with a stream has one locally too: `lambdapress db` creates it from the
definition the deploy template uses (`model.resources.table_definition`)."""

from __future__ import annotations

import boto3
from moto.server import ThreadedMotoServer

from lambdapress.backends.dynamodb import TableSettings
from lambdapress.model.resources import table_definition
from lambdapress.storage.dynamodb import create_tables


def test_db_creates_the_declared_streams(moto_server: ThreadedMotoServer) -> None:
    host, port = moto_server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    tables = {
        "acme-local-inventory-stock": TableSettings(partition_key="sku", stream="NEW_IMAGE"),
        "acme-local-inventory-prices": TableSettings(partition_key="sku", sort_key="at"),
    }
    assert create_tables(endpoint, tables) == tuple(sorted(tables))
    client = boto3.client("dynamodb", endpoint_url=endpoint)
    stock = client.describe_table(TableName="acme-local-inventory-stock")["Table"]
    assert stock["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"}
    assert stock["LatestStreamArn"].startswith(stock["TableArn"] + "/stream/")
    prices = client.describe_table(TableName="acme-local-inventory-prices")["Table"]
    assert "StreamSpecification" not in prices and "LatestStreamArn" not in prices


def test_the_template_and_the_api_spell_a_stream_their_own_way() -> None:
    template = table_definition("sku", None, "KEYS_ONLY")
    api = table_definition("sku", None, "KEYS_ONLY", api=True)
    assert template["StreamSpecification"] == {"StreamViewType": "KEYS_ONLY"}
    assert api["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "KEYS_ONLY"}
    assert {k: v for k, v in api.items() if k != "StreamSpecification"} == {
        k: v for k, v in template.items() if k != "StreamSpecification"
    }
    assert "StreamSpecification" not in table_definition("sku", "at")
