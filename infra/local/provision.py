"""Creates the template's tables, buckets, S3 triggers, functions and the SSM SecureStrings its functions
read (with local values) on an AWS endpoint (moto), and its EventBridge buses, each tapped into an SQS
queue. Scheduled rules are not created in moto, which would not fire them: infra/local/scheduler.py
runs the scheduled functions in process."""

import io
import json
import zipfile
from typing import Any

import boto3

from infra.local.blueprint import ACCOUNT_ID, REGION, Blueprint

# CloudFormation and the DynamoDB API spell some table properties differently; SSE is not emulated.
_TABLE_FIELDS = ("AttributeDefinitions", "KeySchema", "GlobalSecondaryIndexes", "BillingMode")
_ROLE = "casset-local-lambda"


def _in_process_code_zip() -> bytes:
    # moto wants code for a function; the in-process patch runs the real handler instead.
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("README.txt", "Runs in-process: see infra/local/moto_patches.py")
    return buffer.getvalue()


def tap_queue(bus: str) -> str:
    """The SQS queue that receives a copy of every event on the local bus."""
    return f"{bus}-tap"


def _api_cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    renamed = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds", "Id": "ID"}
    return {renamed.get(name, name): value for name, value in rule.items()}


def provision(plan: Blueprint, session: boto3.Session | None = None) -> None:
    session = session or boto3.Session()
    dynamodb, s3 = session.client("dynamodb"), session.client("s3")
    lambda_client, iam, sqs = session.client("lambda"), session.client("iam"), session.client("sqs")

    ssm = session.client("ssm")
    for name, value in plan.secure_parameters.items():
        ssm.put_parameter(Name=name, Value=value, Type="SecureString", Overwrite=True)

    for name, properties in plan.tables.items():
        dynamodb.create_table(TableName=name, **{k: v for k, v in properties.items() if k in _TABLE_FIELDS})
        ttl = properties.get("TimeToLiveSpecification")
        if ttl:
            dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)

    role_arn = iam.create_role(
        RoleName=_ROLE,
        AssumeRolePolicyDocument=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "lambda.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )["Role"]["Arn"]
    function_arns: dict[str, str] = {}
    for logical_id, spec in plan.functions.items():
        created: dict[str, Any] = lambda_client.create_function(
            FunctionName=f"casset-local-{logical_id}",
            Runtime="python3.12",
            Role=role_arn,
            Handler=spec.handler,
            Code={"ZipFile": _in_process_code_zip()},
            Timeout=spec.timeout_sec,
            MemorySize=spec.memory_mb,
        )
        function_arns[logical_id] = created["FunctionArn"]

    # Dead-letter queues first: a redrive policy names its target's ARN.
    for queue in sorted(plan.queues, key=lambda queue: "RedrivePolicy" in queue.attributes):
        sqs.create_queue(QueueName=queue.name, Attributes=queue.attributes)
    queue_arns = {
        queue.logical_id: f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{queue.name}" for queue in plan.queues
    }
    for trigger in plan.queue_triggers:
        lambda_client.create_event_source_mapping(
            EventSourceArn=queue_arns[trigger.queue],
            FunctionName=function_arns[trigger.function],
            BatchSize=trigger.batch_size,
        )

    # EventBridge buses, each with a tap: a rule sending everything on the bus to an SQS queue, the local
    # stand-in for analytics consumers (infra/local/analytics_tap.py shows what arrives; tests read it).
    events = session.client("events")
    for bus in plan.event_buses:
        events.create_event_bus(Name=bus)
        sqs.create_queue(QueueName=tap_queue(bus))
        everything = json.dumps({"account": [ACCOUNT_ID]})
        events.put_rule(Name=tap_queue(bus), EventBusName=bus, EventPattern=everything)
        tap_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{tap_queue(bus)}"
        events.put_targets(Rule=tap_queue(bus), EventBusName=bus, Targets=[{"Id": "tap", "Arn": tap_arn}])

    for bucket in plan.buckets:
        s3.create_bucket(Bucket=bucket.name)
        if bucket.cors_rules:
            rules = [_api_cors_rule(rule) for rule in bucket.cors_rules]
            s3.put_bucket_cors(Bucket=bucket.name, CORSConfiguration={"CORSRules": rules})
        if bucket.triggers:
            s3.put_bucket_notification_configuration(
                Bucket=bucket.name,
                NotificationConfiguration={
                    "LambdaFunctionConfigurations": [
                        {
                            "LambdaFunctionArn": function_arns[trigger.function],
                            "Events": list(trigger.events),
                            "Filter": {
                                "Key": {
                                    "FilterRules": [
                                        {"Name": "prefix", "Value": trigger.prefix},
                                        {"Name": "suffix", "Value": trigger.suffix},
                                    ]
                                }
                            },
                        }
                        for trigger in bucket.triggers
                    ]
                },
            )
