"""Queues, topics, buses, buckets and what connects them to functions, from the model.

Each renderer is checked on the application of `event_stacks` (every source at once), rendered
by the real template builder; the event kinds' `render` facet is what each kind module does.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from lambdapress.config.storage_settings import WARMUP_EVENT
from lambdapress.deploy.config import DeployConfig
from lambdapress.deploy.template import template_body
from lambdapress.deploy.template_events import render_event_triggers
from lambdapress.errors import ConfigError
from lambdapress.model.application import Application
from lambdapress.model.permissions import LOG_ACTIONS, Permission, objects_ref
from lambdapress.model.resources import DELETED_WITH_STACK, S3Bucket, SqsQueue
from lambdapress.model.triggers import DynamoDBStreamTrigger, ScheduleTrigger, SqsTrigger

from .event_stacks import (
    BUCKET,
    PLAIN_TABLE,
    QUEUE,
    STREAM_READER,
    event_application,
    event_functions,
)
from .stacks import config, entry, of_type

ALL_EVENT_TYPES = (
    "AWS::SQS::Queue",
    "AWS::SQS::QueuePolicy",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::Events::EventBus",
    "AWS::Events::Rule",
    "AWS::S3::Bucket",
    "AWS::Lambda::EventSourceMapping",
)
BUCKET_NAME = "acme-dev-imports-uploads-${AWS::AccountId}-${AWS::Region}"


def _render(
    application: Application | None = None, deploy: DeployConfig | None = None
) -> dict[str, Any]:
    body = template_body(application or event_application(), deploy or config(), "dev", "b")
    document: dict[str, Any] = json.loads(body)
    return document


def _properties(document: dict[str, Any], logical_id: str) -> dict[str, Any]:
    properties: dict[str, Any] = document["Resources"][logical_id]["Properties"]
    return properties


def _statements(document: dict[str, Any], role: str) -> list[dict[str, Any]]:
    policies = _properties(document, role)["Policies"]
    return [s for policy in policies for s in policy["PolicyDocument"]["Statement"]]


# -- resources ------------------------------------------------------------------------------------


def test_queues_are_encrypted_with_their_timeouts_and_a_redrive_policy() -> None:
    document = _render()
    assert sorted(of_type(document, "AWS::SQS::Queue")) == [
        "WorkersLedgerDeadQueue",
        "WorkersLedgerQueue",
        "WorkersOrderPlacedDlqQueue",
        "WorkersOrderPlacedQueue",
    ]
    queue = document["Resources"]["WorkersOrderPlacedQueue"]
    assert {k: queue[k] for k in DELETED_WITH_STACK} == DELETED_WITH_STACK
    properties = queue["Properties"]
    assert properties["QueueName"] == "acme-dev-workers-order-placed"
    assert (properties["VisibilityTimeout"], properties["MessageRetentionPeriod"]) == (60, 86_400)
    assert properties["SqsManagedSseEnabled"] is True
    assert properties["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": ["WorkersOrderPlacedDlqQueue", "Arn"]},
        "maxReceiveCount": 3,
    }
    assert "FifoQueue" not in properties
    dead = _properties(document, "WorkersOrderPlacedDlqQueue")
    assert "RedrivePolicy" not in dead and dead["MessageRetentionPeriod"] == 1_209_600
    assert {"Key": "lambdapress:service", "Value": "workers"} in properties["Tags"]


def test_a_fifo_queue_is_named_and_flagged_so_with_a_fifo_dead_letter_queue() -> None:
    document = _render()
    ledger = _properties(document, "WorkersLedgerQueue")
    assert ledger["QueueName"] == "acme-dev-workers-ledger.fifo"
    assert (ledger["FifoQueue"], ledger["ContentBasedDeduplication"]) == (True, True)
    assert ledger["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["WorkersLedgerDeadQueue", "Arn"]
    }
    assert _properties(document, "WorkersLedgerDeadQueue")["QueueName"].endswith("-dead.fifo")


def test_a_dead_letter_queue_of_the_other_kind_is_refused() -> None:
    resources = [
        r.model_copy(update={"fifo": False}) if r.id == "workers/sqs-queue/ledger-dead" else r
        for r in event_application().resources
    ]
    with pytest.raises(ConfigError, match="ledger-dead, which is not a FIFO queue"):
        _render(event_application(resources=tuple(resources)))


def test_a_queue_s_subscription_and_a_policy_letting_only_that_topic_send() -> None:
    document = _render()
    subscription = document["Resources"]["WorkersOrderPlacedQueueSubscriptionOrdersOrderEvents"]
    assert subscription["DependsOn"] == ["WorkersOrderPlacedQueuePolicy"]
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "OrdersOrderEventsTopic"},
        "Protocol": "sqs",
        "Endpoint": {"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]},
        "RawMessageDelivery": True,
        "FilterPolicy": {"type": ["OrderPlaced"]},
        "FilterPolicyScope": "MessageAttributes",
    }
    policy = _properties(document, "WorkersOrderPlacedQueuePolicy")
    assert policy["Queues"] == [{"Ref": "WorkersOrderPlacedQueue"}]
    (statement,) = policy["PolicyDocument"]["Statement"]
    assert statement["Principal"] == {"Service": "sns.amazonaws.com"}
    assert statement["Action"] == "sqs:SendMessage"
    assert statement["Resource"] == {"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]}
    assert statement["Condition"] == {
        "ArnEquals": {"aws:SourceArn": {"Ref": "OrdersOrderEventsTopic"}}
    }
    ledger = _properties(document, "WorkersLedgerQueueSubscriptionOrdersLedger")
    assert ledger["RawMessageDelivery"] is False and "FilterPolicy" not in ledger
    # One policy per queue that has subscriptions; none for the others.
    assert sorted(of_type(document, "AWS::SQS::QueuePolicy")) == [
        "WorkersLedgerQueuePolicy",
        "WorkersOrderPlacedQueuePolicy",
    ]


def test_topics_buses_and_their_names() -> None:
    document = _render()
    topic = document["Resources"]["OrdersOrderEventsTopic"]
    assert topic["Properties"]["TopicName"] == "acme-dev-orders-order-events"
    assert "FifoTopic" not in topic["Properties"]
    assert {k: topic[k] for k in DELETED_WITH_STACK} == DELETED_WITH_STACK
    fifo = _properties(document, "OrdersLedgerTopic")
    assert fifo["TopicName"] == "acme-dev-orders-ledger.fifo"
    assert (fifo["FifoTopic"], fifo["ContentBasedDeduplication"]) == (True, True)
    bus = document["Resources"]["OrdersOrdersEventBus"]
    assert bus["Properties"]["Name"] == "acme-dev-orders-orders"
    assert bus["DeletionPolicy"] == "Delete"


def test_a_bucket_is_private_encrypted_without_acls_and_named_for_its_account() -> None:
    document = _render()
    bucket = document["Resources"]["ImportsUploadsBucket"]
    assert {k: bucket[k] for k in DELETED_WITH_STACK} == DELETED_WITH_STACK
    properties = bucket["Properties"]
    assert properties["BucketName"] == {"Fn::Sub": BUCKET_NAME}
    assert properties["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert properties["BucketEncryption"] == {
        "ServerSideEncryptionConfiguration": [
            {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
        ]
    }
    assert properties["OwnershipControls"] == {
        "Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]
    }


def test_two_buckets_that_would_share_a_name_are_refused() -> None:
    clash = S3Bucket(service="imports_x", name="uploads")
    twin = S3Bucket(service="imports", name="x-uploads")
    application = event_application(resources=(*event_application().resources, clash, twin))
    with pytest.raises(ConfigError, match="would both be named acme-dev-imports-x-uploads-"):
        _render(application)


def test_no_event_resources_without_events() -> None:
    plain = Application(functions=(entry("shop.ping", "GET /ping"),))
    document = _render(plain)
    for kind in ALL_EVENT_TYPES:
        assert of_type(document, kind) == {}


# -- triggers -------------------------------------------------------------------------------------


def test_a_queue_is_drained_by_a_mapping_reporting_partial_failures() -> None:
    document = _render()
    mapping = _properties(document, "WorkersConsumeSqsWorkersOrderPlacedMapping")
    assert mapping == {
        "EventSourceArn": {"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]},
        "FunctionName": {"Ref": "WorkersConsumeLiveAlias"},
        "BatchSize": 5,
        "MaximumBatchingWindowInSeconds": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
        "ScalingConfig": {"MaximumConcurrency": 4},
    }
    # A function with provisioned concurrency is invoked through its `live` alias.
    ledger = _properties(document, "WorkersLedgerSqsWorkersLedgerMapping")
    assert ledger["FunctionName"] == {"Ref": "WorkersLedgerLiveAlias"}
    assert "MaximumBatchingWindowInSeconds" not in ledger and "ScalingConfig" not in ledger


def test_a_stream_is_read_by_a_mapping_from_the_table_s_stream() -> None:
    document = _render()
    mapping = _properties(document, "InventoryChangesStreamInventoryStockMapping")
    assert mapping == {
        "EventSourceArn": {"Fn::GetAtt": ["InventoryStockTable", "StreamArn"]},
        "FunctionName": {"Ref": "InventoryChangesLiveAlias"},
        "BatchSize": 50,
        "StartingPosition": "TRIM_HORIZON",
        "BisectBatchOnFunctionError": True,
        "MaximumRetryAttempts": 2,
        "FunctionResponseTypes": ["ReportBatchItemFailures"],
    }
    stock = _properties(document, "InventoryStockTable")
    assert stock["StreamSpecification"] == {"StreamViewType": "NEW_IMAGE"}


def test_a_stream_of_a_table_without_one_is_refused() -> None:
    functions = [
        f.model_copy(update={"triggers": (DynamoDBStreamTrigger(table=PLAIN_TABLE),)})
        if f.name == "inventory.changes"
        else f
        for f in event_application().functions
    ]
    with pytest.raises(ConfigError) as caught:
        _render(event_application(functions=tuple(functions)))
    assert "table prices of service inventory has no stream" in str(caught.value)
    assert 'stream = "NEW_AND_OLD_IMAGES"' in str(caught.value)


def test_a_topic_invokes_its_subscriber_with_a_filter_policy_and_only_that_permission() -> None:
    document = _render()
    subscription = document["Resources"]["WorkersNotifySnsOrdersOrderEventsSubscription"]
    assert subscription["DependsOn"] == ["WorkersNotifySnsOrdersOrderEventsPermission"]
    assert subscription["Properties"] == {
        "TopicArn": {"Ref": "OrdersOrderEventsTopic"},
        "Protocol": "lambda",
        "Endpoint": {"Ref": "WorkersNotifyLiveAlias"},
        "FilterPolicy": {"amount": [{"numeric": [">", 100]}]},
        "FilterPolicyScope": "MessageAttributes",
    }
    permission = _properties(document, "WorkersNotifySnsOrdersOrderEventsPermission")
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": {"Ref": "WorkersNotifyLiveAlias"},
        "Principal": "sns.amazonaws.com",
        "SourceArn": {"Ref": "OrdersOrderEventsTopic"},
    }


def test_each_schedule_is_a_rule_of_its_own_with_its_input_and_state() -> None:
    document = _render()
    rules = {
        k: v["Properties"]
        for k, v in of_type(document, "AWS::Events::Rule").items()
        if k.startswith("WorkersSweep")
    }
    by_expression = {r["ScheduleExpression"]: (k, r) for k, r in rules.items()}
    assert set(by_expression) == {"rate(5 minutes)", "cron(0 12 * * ? *)", "rate(10 minutes)"}
    every_five_id, every_five = by_expression["rate(5 minutes)"]
    assert every_five["State"] == "ENABLED"
    (target,) = every_five["Targets"]
    assert json.loads(target["Input"]) == {"job": "sweep"}
    assert target["Arn"] == {"Ref": "WorkersSweepLiveAlias"}
    noon_id, noon = by_expression["cron(0 12 * * ? *)"]
    assert noon["State"] == "DISABLED" and "Input" not in noon["Targets"][0]
    # The keep-warm ping is a schedule too, under its own ids, with the runtime's marker.
    warm_id, warm = by_expression["rate(10 minutes)"]
    assert warm_id == "WorkersSweepWarmUpRule"
    assert json.loads(warm["Targets"][0]["Input"]) == WARMUP_EVENT
    for rule_id, permission_id in [
        (every_five_id, f"{every_five_id}Permission"),
        (noon_id, f"{noon_id}Permission"),
        (warm_id, "WorkersSweepWarmUpPermission"),
    ]:
        permission = _properties(document, permission_id)
        assert permission["Principal"] == "events.amazonaws.com"
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_a_schedule_s_ids_are_stable_and_follow_what_identifies_it() -> None:
    first = set(of_type(_render(), "AWS::Events::Rule"))
    assert set(of_type(_render(), "AWS::Events::Rule")) == first
    edited = [
        f.model_copy(
            update={"triggers": (ScheduleTrigger(expression="rate(6 minutes)"), f.triggers[1])}
        )
        if f.name == "workers.sweep"
        else f
        for f in event_application().functions
    ]
    second = set(of_type(_render(event_application(functions=tuple(edited))), "AWS::Events::Rule"))
    assert len(first - second) == len(second - first) == 1  # only the edited schedule's


def test_rules_match_their_pattern_on_their_bus() -> None:
    document = _render()
    rules = [
        (k, v["Properties"])
        for k, v in of_type(document, "AWS::Events::Rule").items()
        if k.startswith("WorkersAudit")
    ]
    by_bus = {json.dumps(r["EventBusName"], sort_keys=True): (k, r) for k, r in rules}
    own_id, own = by_bus[json.dumps({"Fn::GetAtt": ["OrdersOrdersEventBus", "Name"]})]
    assert own["EventPattern"] == {"source": ["orders"]}
    assert own["State"] == "ENABLED"
    assert own["Targets"] == [
        {"Id": "lambdapress-function", "Arn": {"Ref": "WorkersAuditLiveAlias"}}
    ]
    default_id, default = by_bus['"default"']
    assert default["EventPattern"] == {"source": ["aws.s3"]}
    for rule_id in (own_id, default_id):
        permission = _properties(document, f"{rule_id}Permission")
        assert permission["SourceArn"] == {"Fn::GetAtt": [rule_id, "Arn"]}


def test_a_bucket_notifies_its_function_once_s3_may_invoke_it() -> None:
    document = _render()
    bucket = document["Resources"]["ImportsUploadsBucket"]
    assert bucket["DependsOn"] == ["ImportsLoadS3ImportsUploadsPermission"]
    target = {"Ref": "ImportsLoadLiveAlias"}
    assert bucket["Properties"]["NotificationConfiguration"] == {
        "LambdaConfigurations": [
            {
                "Event": "s3:ObjectCreated:*",
                "Function": target,
                "Filter": {
                    "S3Key": {
                        "Rules": [
                            {"Name": "prefix", "Value": "in/"},
                            {"Name": "suffix", "Value": ".csv"},
                        ]
                    }
                },
            },
            {
                "Event": "s3:ObjectRemoved:*",
                "Function": target,
                "Filter": {"S3Key": {"Rules": [{"Name": "prefix", "Value": "gone/"}]}},
            },
        ]
    }
    permission = _properties(document, "ImportsLoadS3ImportsUploadsPermission")
    assert permission == {
        "Action": "lambda:InvokeFunction",
        "FunctionName": target,
        "Principal": "s3.amazonaws.com",
        "SourceArn": {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}"},
        "SourceAccount": {"Ref": "AWS::AccountId"},
    }


def test_nothing_refers_to_a_bucket_by_ref_or_getatt() -> None:
    """The bucket depends on its function's permission: a reference back would be a cycle."""
    text = json.dumps(_render())
    assert '"Ref": "ImportsUploadsBucket"' not in text
    assert '["ImportsUploadsBucket",' not in text


def test_two_triggers_of_one_function_on_one_queue_are_one_id_too_many() -> None:
    twice = [
        f.model_copy(update={"triggers": (*f.triggers, SqsTrigger(queue=QUEUE, batch_size=1))})
        if f.name == "workers.consume"
        else f
        for f in event_application().functions
    ]
    with pytest.raises(ConfigError, match="WorkersConsumeSqsWorkersOrderPlacedMapping"):
        _render(event_application(functions=tuple(twice)))


def test_a_trigger_naming_a_resource_of_another_kind_is_refused() -> None:
    wrong = [
        f.model_copy(update={"triggers": (SqsTrigger(queue=BUCKET),)})
        if f.name == "workers.consume"
        else f
        for f in event_application().functions
    ]
    with pytest.raises(ConfigError, match="names imports/s3-bucket/uploads, a s3-bucket"):
        _render(event_application(functions=tuple(wrong)))


def test_an_unknown_kind_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="no event trigger kind 'tick'"):
        render_event_triggers(object(), event_application(), "tick")  # type: ignore[arg-type]


# -- roles and variables --------------------------------------------------------------------------


def test_each_consumer_s_role_names_only_its_own_source() -> None:
    document = _render()
    logs, consume = _statements(document, "WorkersConsumeRole")
    assert logs["Action"] == list(LOG_ACTIONS)
    assert consume["Resource"] == [{"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]}]
    _, ledger = _statements(document, "WorkersLedgerRole")
    assert ledger["Resource"] == [{"Fn::GetAtt": ["WorkersLedgerQueue", "Arn"]}]
    _, stream = _statements(document, "InventoryChangesRole")
    assert stream["Action"] == list(STREAM_READER)
    assert stream["Resource"] == [{"Fn::GetAtt": ["InventoryStockTable", "StreamArn"]}]
    _, objects = _statements(document, "ImportsLoadRole")
    assert objects["Resource"] == [{"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}/in/*"}]
    (notify,) = _statements(document, "WorkersNotifyRole")  # pushed to: its logs only
    assert notify["Action"] == list(LOG_ACTIONS)


def test_a_publisher_s_role_names_the_topic_bus_queue_and_objects_it_uses() -> None:
    document = _render()
    _, publish, put_events, send, put_object = _statements(document, "OrdersPlaceOrderRole")
    assert publish["Resource"] == [{"Ref": "OrdersOrderEventsTopic"}]
    assert put_events["Resource"] == [{"Fn::GetAtt": ["OrdersOrdersEventBus", "Arn"]}]
    assert send["Resource"] == [{"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]}]
    assert put_object["Resource"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}/in/*"}
    ]


def test_an_objects_pattern_with_a_dollar_brace_stays_literal() -> None:
    grant = Permission(
        actions=("s3:GetObject",), resources=(objects_ref(BUCKET, "${x}/*"),), reason="test"
    )
    functions = [
        f.model_copy(update={"permissions": (grant,)}) if f.name == "imports.load" else f
        for f in event_application().functions
    ]
    document = _render(event_application(functions=tuple(functions)))
    (statement,) = _statements(document, "ImportsLoadRole")
    assert statement["Resource"] == [
        {"Fn::Sub": f"arn:${{AWS::Partition}}:s3:::{BUCKET_NAME}/${{!x}}/*"}
    ]


def test_a_function_using_a_resource_finds_it_by_variable() -> None:
    document = _render()
    variables = _properties(document, "OrdersPlaceOrderFunction")["Environment"]["Variables"]
    assert variables == {
        "POWERTOOLS_SERVICE_NAME": "orders",
        "ORDER_EVENTS_TOPIC_ARN": {"Ref": "OrdersOrderEventsTopic"},
        "ORDERS_BUS_NAME": {"Fn::GetAtt": ["OrdersOrdersEventBus", "Name"]},
        "IMPORTS_UPLOADS_BUCKET_NAME": {"Fn::Sub": BUCKET_NAME},
        "WORKERS_ORDER_PLACED_QUEUE_URL": {"Ref": "WorkersOrderPlacedQueue"},
        "WORKERS_ORDER_PLACED_QUEUE_ARN": {"Fn::GetAtt": ["WorkersOrderPlacedQueue", "Arn"]},
    }
    consume = _properties(document, "WorkersConsumeFunction")["Environment"]["Variables"]
    assert consume["ORDER_PLACED_QUEUE_URL"] == {"Ref": "WorkersOrderPlacedQueue"}
    notify = _properties(document, "WorkersNotifyFunction")["Environment"]["Variables"]
    assert notify == {"POWERTOOLS_SERVICE_NAME": "workers"}


def test_a_variable_set_by_hand_that_the_stack_sets_for_a_used_queue_is_refused() -> None:
    functions = [
        f.model_copy(update={"environment": {"ORDER_PLACED_QUEUE_URL": "x"}})
        if f.name == "workers.consume"
        else f
        for f in event_functions()
    ]
    with pytest.raises(ConfigError, match="sets ORDER_PLACED_QUEUE_URL in its environment"):
        _render(event_application(functions=tuple(sorted(functions, key=lambda f: f.name))))


def test_a_queue_the_application_lacks_is_an_error_naming_it() -> None:
    resources = tuple(r for r in event_application().resources if r.id != QUEUE)
    with pytest.raises(ConfigError, match=f"no resource '{QUEUE}'"):
        _render(event_application(resources=resources))


def test_a_fifo_queue_without_a_dead_letter_queue_has_no_redrive() -> None:
    plain = SqsQueue(service="workers", name="solo", fifo=True)
    application = event_application(resources=(*event_application().resources, plain))
    solo = _properties(_render(application), "WorkersSoloQueue")
    assert "RedrivePolicy" not in solo and solo["QueueName"] == "acme-dev-workers-solo.fifo"
