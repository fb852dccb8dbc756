"""Each template function may do what its handler does, deployed: the IAM twin of the packaging test.

Every integration test already checks the AWS calls its handlers make against their functions' roles
(the `function_grants` fixture, tests/integration/grants.py). These tests show the check sees each
function of the template at work, and pin the grants a missing policy once took away in production."""

import json
from typing import Any

import boto3
import pytest

from infra.local.blueprint import Blueprint
from infra.local.functions import LambdaContext, invoke
from infra.local.scheduler import scheduled_event
from infra.local.stripe_fake import StripeFake
from tests.conftest import http_event
from tests.integration import support
from tests.integration.commerce_support import (
    Seller,
    checkout,
    deliver,
    fan,
    onboarded_artist,
    pay,
    stripe,
)
from tests.integration.grants import Recorder, allowed, requests_of
from tests.integration.test_metrics_aggregation import event as visual_event
from tests.integration.test_metrics_aggregation import records

__all__ = ["stripe"]  # the module-scoped Stripe fake, as the commerce tests use it

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/casset-local-{}"


def _send(plan: Blueprint, queue: str, body: dict[str, Any]) -> None:
    """A message on one of the template's queues; moto's event source mapping runs its function inline."""
    (spec,) = [spec for spec in plan.queues if spec.logical_id == queue]
    sqs = boto3.client("sqs")
    sqs.send_message(
        QueueUrl=sqs.get_queue_url(QueueName=spec.name)["QueueUrl"], MessageBody=json.dumps(body)
    )


def _referred_checkout(api: support.Api, seller: Seller, referrer: str, buyer: str) -> str:
    """The buyer follows the referrer's link (the `ref` cookie) and checks out; returns the intent id."""
    status, link, _ = api("POST", f"/api/casset/{seller.handle}/referral-link", user=referrer)
    assert status == 201, link
    from api.app import lambda_handler

    redirect = lambda_handler(http_event("GET", f"/r/{link['code']}"), LambdaContext("api", 512, 15))
    (cookie,) = redirect["cookies"]
    request = http_event(
        "POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": seller.handle}
    )
    request["cookies"] = [cookie.split(";")[0]]
    response = lambda_handler(request, LambdaContext("api", 512, 15))
    body = json.loads(response["body"])
    assert response["statusCode"] == 200 and body["referralCode"] == link["code"], body
    return str(body["paymentIntentId"])


def test_a_referred_payment_reads_the_referral_link_and_the_webhook_may(
    api: support.Api, stripe: StripeFake, function_grants: Recorder
) -> None:
    """Given a payment made through a referral link: the platform webhook reads the link it names
    (ReferralLinks) to check the metadata, and its role (and the reconciliation's, same path) allows it."""
    seller = onboarded_artist(api, stripe)
    intent = _referred_checkout(api, seller, fan(api), fan(api))
    succeeded = pay(stripe, intent)

    assert deliver(succeeded)[1]["outcome"] == "GRANTED"

    links = TABLE.format("ReferralLinksTable")
    assert links in function_grants.touched("StripeWebhookFunction", "dynamodb")
    assert function_grants.refused() == []
    for function in ("StripeWebhookFunction", "StripeReconcileFunction"):
        assert allowed(function, "dynamodb:GetItem", links)
        assert not allowed(function, "dynamodb:PutItem", links)


def test_every_function_of_the_template_is_seen_and_checked(
    api: support.Api,
    aws: Blueprint,
    stripe: StripeFake,
    media: support.Media,
    function_grants: Recorder,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """One representative call of each function, through the way AWS would run it (API Gateway events,
    S3 and SQS triggers, schedules, on-failure destinations): each one's calls are recorded under it,
    and its role allows every one of them."""
    from casset.services import probing

    # The API, the Connect webhook (onboarding), the probe (audio and a visual), the preview cut.
    seller = onboarded_artist(api, stripe)
    status, body, _ = api(
        "POST",
        f"/api/tracks/{seller.track_id}/audio",
        user=seller.user_id,
        body={"audioContentType": "audio/wav"},
    )
    assert status == 200, body
    support.put_object(body["audioUpload"]["key"], media.audio(".wav", seconds=8.0), "audio/wav")
    hook = {"previewStartSec": 1, "hookDurationSec": 5}
    assert api("PATCH", f"/api/tracks/{seller.track_id}", user=seller.user_id, body=hook)[0] == 200
    visual = support.add_visual(api, seller.user_id, seller.track_id, media.clip)
    assert support.set_active(api, seller.user_id, seller.track_id, visual["id"], True)[0] == 200
    # The render (an export through the render queue) and its dead letters.
    export = {"trackId": seller.track_id, "hookStartSec": 1, "hookDurationSec": 5}
    status, job, _ = api("POST", "/api/hooks/tiktok-video", user=seller.user_id, body=export)
    assert status in {200, 202}, job
    _send(aws, "RenderDeadLetterQueue", {"exportId": job["id"]})
    # The platform webhook, then the reconciliation sweep.
    intent = checkout(api, fan(api), seller)["paymentIntentId"]
    succeeded = pay(stripe, intent)
    assert deliver(succeeded)[0] == 200
    stripe.mark_undelivered(succeeded["id"])
    invoke(aws.functions["StripeReconcileFunction"], {})
    # The metrics aggregator, on a batch as SQS hands it.
    invoke(aws.functions["MetricsAggregatorFunction"], {"Records": records([visual_event(visual["id"])])})
    # Stalled media: a probe that crashes on every attempt (its on-failure destination), the upload
    # expiry sweep, a preview cut whose message died.
    with monkeypatch.context() as patch:
        patch.setattr(probing, "probe_video", lambda path, **limits: 1 / 0)
        created = support.start_visual(api, seller.user_id, seller.track_id)
        support.put_object(created["upload"]["key"], media.clip, "video/mp4")
    invoke(aws.functions["UploadExpiryFunction"], scheduled_event("UploadExpiryFunction"))
    _send(aws, "PreviewDeadLetterQueue", {"trackId": seller.track_id})

    unseen = {name for name in aws.functions if not function_grants.touched(name)}
    assert unseen == set()
    assert function_grants.refused() == []


def test_the_check_refuses_what_a_role_does_not_grant() -> None:
    """The evaluation itself: policy templates expanded by SAM, resources matched as IAM matches them."""
    purchases = TABLE.format("PurchasesTable")
    assert allowed("ApiFunction", "dynamodb:Query", purchases + "/index/byBuyer")
    assert not allowed("ApiFunction", "dynamodb:UpdateItem", purchases)  # DynamoDBReadPolicy
    assert not allowed("MetricsAggregatorFunction", "dynamodb:GetItem", TABLE.format("VisualsTable"))  # Write
    assert not allowed("PreviewFunction", "dynamodb:GetItem", TABLE.format("UsersTable"))  # no policy
    assert requests_of(
        "dynamodb",
        "TransactWriteItems",
        {"TransactItems": [{"Put": {"TableName": "a"}}, {"ConditionCheck": {"TableName": "b"}}]},
    ) == [
        ("dynamodb:PutItem", "arn:aws:dynamodb:us-east-1:123456789012:table/a"),
        ("dynamodb:ConditionCheckItem", "arn:aws:dynamodb:us-east-1:123456789012:table/b"),
    ]
    bucket = "arn:aws:s3:::casset-local-media-123456789012-us-east-1"
    assert allowed("ApiFunction", "s3:PutObject", bucket + "/visuals/v/source.mp4")
    assert not allowed("UploadExpiryFunction", "s3:PutObject", bucket + "/visuals/v/source.mp4")  # S3Read
    assert not allowed("ApiFunction", "sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:somewhere")
    assert requests_of("kms", "Decrypt", {}) == [("kms:Decrypt", "*")]  # unknown: refused until taught
    assert not allowed("ApiFunction", "kms:Decrypt", "*")
