"""What the local stack needs to know, read from template.yaml itself (after SAM translation), so the
local tables, bucket, routes, function environments and S3 triggers cannot drift from production."""

import json
import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any

from infra.translate import load_template, translated

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
_QUEUE_ATTRIBUTES = {"VisibilityTimeout", "MessageRetentionPeriod", "RedrivePolicy", "DelaySeconds"}
LOCAL_PARAMETERS = {
    "Stage": "local",
    "JwtIssuer": "casset-local",
    "JwtAudience": "casset-local-api",
    "CorsAllowOrigins": "*",
    "LogLevel": "INFO",
    "StripeApiKeyParameterName": "casset/local/stripe/api-key",
    "StripeWebhookSecretParameterName": "casset/local/stripe/webhook-secret",
    "StripeConnectWebhookSecretParameterName": "casset/local/stripe/connect-webhook-secret",
    "StripePublishableKey": "pk_test_casset_local",
    "StripeLivemode": "false",
    "SiteUrl": "http://localhost:5173",
    "ShortLinkBaseUrl": "http://127.0.0.1:3000",
    "AWS::AccountId": ACCOUNT_ID,
    "AWS::Region": REGION,
    "AWS::StackName": "casset-local",
    "AWS::Partition": "aws",
    "AWS::URLSuffix": "amazonaws.com",
}


# The local values of the secrets the template names as SSM parameters (by the env var carrying the name).
# They are the local Stripe fake's (infra/local/stripe_fake.py) and mean nothing anywhere else.
LOCAL_SECRETS = {
    "STRIPE_API_KEY_PARAMETER": "sk_test_casset_local",
    "STRIPE_WEBHOOK_SECRET_PARAMETER": "whsec_casset_local_platform",
    "STRIPE_CONNECT_WEBHOOK_SECRET_PARAMETER": "whsec_casset_local_connect",
}


@dataclass(frozen=True)
class FunctionSpec:
    logical_id: str
    handler: str  # "module.attribute", importable with the CodeUri directory on sys.path
    code_uri: str
    environment: dict[str, str]
    timeout_sec: int
    memory_mb: int
    # EventInvokeConfig: an asynchronous invocation that still fails after this many retries is sent
    # to this SQS queue (URL) as a Lambda destination record.
    on_failure_queue: str | None = None
    max_retry_attempts: int = 2


@dataclass(frozen=True)
class RouteSpec:
    method: str
    path: str  # API Gateway form: /api/tracks/{trackId}
    function: str
    authorized: bool


@dataclass(frozen=True)
class S3Trigger:
    function: str
    events: tuple[str, ...]
    prefix: str
    suffix: str


@dataclass(frozen=True)
class QueueSpec:
    logical_id: str
    name: str
    attributes: dict[str, str]  # SQS API attributes (VisibilityTimeout, RedrivePolicy, ...)


@dataclass(frozen=True)
class QueueTrigger:
    function: str
    queue: str  # logical id
    batch_size: int


@dataclass(frozen=True)
class ScheduleSpec:
    function: str  # logical id
    rate_sec: int  # from the rule's rate(...) expression


@dataclass(frozen=True)
class BucketSpec:
    logical_id: str
    name: str
    cors_rules: list[dict[str, Any]]
    triggers: list[S3Trigger]


@dataclass(frozen=True)
class Blueprint:
    functions: dict[str, FunctionSpec]
    routes: list[RouteSpec]
    tables: dict[str, dict[str, Any]]  # physical name -> AWS::DynamoDB::Table properties
    buckets: list[BucketSpec]
    queues: list[QueueSpec]
    queue_triggers: list[QueueTrigger]
    cors: dict[str, Any]
    jwt_issuer: str
    jwt_audience: list[str]
    physical_names: dict[str, str] = field(default_factory=dict)
    secure_parameters: dict[str, str] = field(default_factory=dict)  # SSM name -> local value
    event_buses: list[str] = field(default_factory=list)  # EventBridge bus names
    schedules: list[ScheduleSpec] = field(default_factory=list)  # scheduled rules (rate expressions)


def resolve(value: Any, names: dict[str, str]) -> Any:
    """Evaluate the few intrinsics the template uses, with the local parameters."""
    if isinstance(value, dict) and len(value) == 1:
        ((function, argument),) = value.items()
        if function == "Ref":
            return names.get(argument) or _parameter(argument)
        if function == "Fn::Sub":
            text = argument if isinstance(argument, str) else argument[0]
            return re.sub(r"\$\{([^}]+)\}", lambda m: _sub(m.group(1), names), text)
        if function == "Fn::GetAtt":
            logical_id, attribute = argument if isinstance(argument, list) else argument.split(".", 1)
            return _attribute(logical_id, attribute, names)
    if isinstance(value, dict):
        return {key: resolve(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [resolve(item, names) for item in value]
    return value


def _parameter(name: str) -> Any:
    value = LOCAL_PARAMETERS[name]
    return value.split(",") if name in {"JwtAudience", "CorsAllowOrigins"} else value


def _sub(expression: str, names: dict[str, str]) -> str:
    if "." in expression:
        logical_id, attribute = expression.split(".", 1)
        return _attribute(logical_id, attribute, names)
    return str(names.get(expression) or LOCAL_PARAMETERS[expression])


def _attribute(logical_id: str, attribute: str, names: dict[str, str]) -> str:
    name = names[logical_id]
    if attribute != "Arn":
        return name
    if name.startswith(_QUEUE_URL):
        return f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{name.rsplit('/', 1)[1]}"
    return f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{name}"


# Ref of a queue is its URL; moto takes the queue from the URL's path whatever endpoint serves it.
_QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/"


@lru_cache(maxsize=1)
def blueprint() -> Blueprint:
    raw = load_template()
    cfn = translated(parameters=tuple((k, v) for k, v in LOCAL_PARAMETERS.items() if "::" not in k))
    resources = cfn["Resources"]
    names: dict[str, str] = {}
    for logical_id, resource in resources.items():
        if resource["Type"] in {"AWS::DynamoDB::Table", "AWS::Lambda::Function"}:
            names[logical_id] = f"casset-local-{logical_id}"
        elif resource["Type"] == "AWS::SQS::Queue":
            names[logical_id] = f"{_QUEUE_URL}casset-local-{logical_id}"
        elif resource["Type"].startswith("AWS::AppConfig::"):
            # Named only so the env vars that Ref them resolve; locally the flags come from a file
            # (FEATURE_FLAGS_FILE, set by infra/local/__main__.py and the tests), which wins.
            names[logical_id] = f"casset-local-{logical_id}"
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::S3::Bucket":
            names[logical_id] = resolve(resource["Properties"]["BucketName"], names)
        elif resource["Type"] == "AWS::Events::EventBus":
            names[logical_id] = resolve(resource["Properties"]["Name"], names)

    functions = {}
    for logical_id, resource in raw["Resources"].items():
        if resource["Type"] != "AWS::Serverless::Function":
            continue
        properties = resource["Properties"]
        translated_properties = resources[logical_id]["Properties"]
        environment = resolve(translated_properties.get("Environment", {}).get("Variables", {}), names)
        image = properties.get("PackageType") == "Image"
        functions[logical_id] = FunctionSpec(
            logical_id=logical_id,
            # An image function's handler is its command; its code is the same functions/ package.
            handler=properties["ImageConfig"]["Command"][0] if image else properties["Handler"],
            code_uri="functions/" if image else properties["CodeUri"],
            environment={key: str(value) for key, value in environment.items()},
            timeout_sec=int(translated_properties.get("Timeout", 3)),
            memory_mb=int(translated_properties.get("MemorySize", 128)),
        )

    for resource in resources.values():
        if resource["Type"] != "AWS::Lambda::EventInvokeConfig":
            continue
        properties = resource["Properties"]
        function = properties["FunctionName"]["Ref"]
        on_failure = properties.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
        functions[function] = replace(
            functions[function],
            on_failure_queue=names[on_failure["Fn::GetAtt"][0]] if on_failure else None,
            max_retry_attempts=int(properties.get("MaximumRetryAttempts", 2)),
        )
    schedules = [
        ScheduleSpec(target["Arn"]["Fn::GetAtt"][0], _rate_sec(resource["Properties"]["ScheduleExpression"]))
        for resource in resources.values()
        if resource["Type"] == "AWS::Events::Rule" and "ScheduleExpression" in resource["Properties"]
        for target in resource["Properties"]["Targets"]
    ]

    api = resources["HttpApi"]["Properties"]["Body"]
    routes = []
    for path, operations in api["paths"].items():
        for method, operation in operations.items():
            if method.startswith("x-amazon"):
                continue
            uri = operation["x-amazon-apigateway-integration"]["uri"]["Fn::Sub"]
            function = re.search(r"\$\{(\w+)\.Arn\}", uri)
            assert function, f"no function behind {method} {path}"
            authorized = operation.get("security") != [{"NONE": []}]
            routes.append(RouteSpec(method.upper(), path, function.group(1), authorized))

    authorizer = api["components"]["securitySchemes"]["JwtAuthorizer"]["x-amazon-apigateway-authorizer"]
    jwt = resolve(authorizer["jwtConfiguration"], names)

    buckets = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::S3::Bucket":
            continue
        properties = resource["Properties"]
        triggers = []
        for config in properties.get("NotificationConfiguration", {}).get("LambdaConfigurations", []):
            rules = {rule["Name"]: rule["Value"] for rule in config["Filter"]["S3Key"]["Rules"]}
            triggers.append(
                S3Trigger(
                    function=config["Function"]["Fn::GetAtt"][0],
                    events=(config["Event"],),
                    prefix=rules.get("prefix", ""),
                    suffix=rules.get("suffix", ""),
                )
            )
        buckets.append(
            BucketSpec(
                logical_id=logical_id,
                name=names[logical_id],
                cors_rules=resolve(properties.get("CorsConfiguration", {}).get("CorsRules", []), names),
                triggers=triggers,
            )
        )

    queues = [
        QueueSpec(
            logical_id=logical_id,
            name=names[logical_id].rsplit("/", 1)[1],
            attributes={
                key: json.dumps(value) if isinstance(value, dict) else str(value)
                for key, value in resolve(resource.get("Properties", {}), names).items()
                if key in _QUEUE_ATTRIBUTES
            },
        )
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::SQS::Queue"
    ]
    queue_triggers = [
        QueueTrigger(
            function=resource["Properties"]["FunctionName"]["Ref"],
            queue=resource["Properties"]["EventSourceArn"]["Fn::GetAtt"][0],
            batch_size=int(resource["Properties"].get("BatchSize", 10)),
        )
        for resource in resources.values()
        if resource["Type"] == "AWS::Lambda::EventSourceMapping"
    ]

    tables = {
        names[logical_id]: resolve(resource["Properties"], names)
        for logical_id, resource in resources.items()
        if resource["Type"] == "AWS::DynamoDB::Table"
    }
    secure_parameters = {
        spec.environment[variable]: value
        for spec in functions.values()
        for variable, value in LOCAL_SECRETS.items()
        if variable in spec.environment
    }
    return Blueprint(
        functions=functions,
        routes=routes,
        tables=tables,
        buckets=buckets,
        queues=queues,
        queue_triggers=queue_triggers,
        cors=resolve(api.get("x-amazon-apigateway-cors", {}), names),
        jwt_issuer=jwt["issuer"],
        jwt_audience=list(jwt["audience"]),
        physical_names=names,
        secure_parameters=secure_parameters,
        event_buses=[
            names[logical_id]
            for logical_id, resource in resources.items()
            if resource["Type"] == "AWS::Events::EventBus"
        ],
        schedules=schedules,
    )


_RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
_UNIT_SEC = {"minute": 60, "hour": 3600, "day": 86400}


def _rate_sec(expression: str) -> int:
    """rate(5 minutes) -> 300. The template schedules only with rate expressions."""
    match = _RATE.match(expression)
    if not match:
        raise ValueError(f"unsupported schedule expression {expression!r}")
    return int(match[1]) * _UNIT_SEC[match[2].rstrip("s")]
