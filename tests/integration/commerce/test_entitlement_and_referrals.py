"""Entitlement on every audio request (full track vs the hook clip), referral links and credit, the bell,
the activity feed and per-track rewards: moto, the real handlers (API, probe, preview, webhooks) and the
Stripe fake."""

import time
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import pytest

from casset.media.probe import probe_audio
from infra.local.stripe_fake import StripeFake
from tests.integration import support
from tests.integration.commerce_support import (
    Seller,
    checkout,
    deliver,
    dispute_closed_event,
    dispute_event,
    event,
    fan,
    ledger_of,
    onboarded_artist,
    pay,
    refund,
)


@pytest.fixture(scope="module")
def seller(api_module: support.Api, stripe: StripeFake, media_module: support.Media) -> Seller:
    """An onboarded artist whose track has probed audio (8 s) and a 5 s hook from 2 s."""
    artist = onboarded_artist(api_module, stripe)
    status, body, _ = api_module(
        "POST",
        f"/api/tracks/{artist.track_id}/audio",
        user=artist.user_id,
        body={"audioContentType": "audio/mpeg"},
    )
    assert status == 200, body
    support.put_object(body["audioUpload"]["key"], media_module.audio(".mp3", seconds=8.0), "audio/mpeg")
    status, body, _ = api_module(
        "PATCH",
        f"/api/tracks/{artist.track_id}",
        user=artist.user_id,
        body={"previewStartSec": 2, "hookDurationSec": 5},
    )
    assert status == 200, body
    return artist


@pytest.fixture(scope="module")
def api_module(aws: Any) -> support.Api:
    from tests.conftest import Api

    return Api()


@pytest.fixture(scope="module")
def media_module(tmp_path_factory: pytest.TempPathFactory) -> support.Media:
    return support.Media(tmp_path_factory.mktemp("commerce-media"))


def _audio(api: support.Api, user: str | None, track_id: str) -> tuple[int, Any]:
    if user is None:
        status, body, _ = api("GET", f"/api/tracks/{track_id}/preview")
    else:
        status, body, _ = api("GET", f"/api/tracks/{track_id}/audio", user=user)
    return status, body


def _object_key(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def test_fans_without_a_purchase_get_only_the_hook_clip(
    api: support.Api, seller: Seller, tmp_path: Any
) -> None:
    status, body = _audio(api, fan(api), seller.track_id)
    assert status == 200, body
    assert (body["access"], body["startSec"], body["durationSec"]) == ("PREVIEW", 2.0, 5.0)
    key = _object_key(body["url"])
    assert key.startswith(f"previews/{seller.track_id}/") and key.endswith(".m4a")
    clip = tmp_path / "clip.m4a"
    clip.write_bytes(support.get_object(key)[0])
    assert probe_audio(clip).duration_sec == pytest.approx(5.0, abs=0.05)
    anonymous = _audio(api, None, seller.track_id)[1]
    assert anonymous["access"] == "PREVIEW" and _object_key(anonymous["url"]) == key


def test_the_artist_always_gets_the_full_track(api: support.Api, seller: Seller) -> None:
    status, body = _audio(api, seller.user_id, seller.track_id)
    assert status == 200 and body["access"] == "FULL"
    assert _object_key(body["url"]).startswith(f"tracks/{seller.track_id}/audio/")
    assert api("GET", f"/api/entitlements/{seller.user_id}", user=seller.user_id)[1]["reason"] == "ARTIST"


def test_a_new_hook_gets_a_new_clip(api: support.Api, seller: Seller) -> None:
    before = _audio(api, None, seller.track_id)[1]
    api("PATCH", f"/api/tracks/{seller.track_id}", user=seller.user_id, body={"previewStartSec": 1})
    after = _audio(api, None, seller.track_id)[1]
    assert after["startSec"] == 1.0 and _object_key(after["url"]) != _object_key(before["url"])
    api("PATCH", f"/api/tracks/{seller.track_id}", user=seller.user_id, body={"previewStartSec": 2})


def test_entitlement_follows_grant_refund_and_dispute(
    api: support.Api, stripe: StripeFake, seller: Seller
) -> None:
    def access(user: str) -> str:
        return str(_audio(api, user, seller.track_id)[1]["access"])

    refunded_fan, disputed_fan = fan(api), fan(api)
    first = pay(stripe, checkout(api, refunded_fan, seller)["paymentIntentId"])
    second = pay(stripe, checkout(api, disputed_fan, seller)["paymentIntentId"])
    assert access(refunded_fan) == access(disputed_fan) == "PREVIEW"  # paid, but no webhook yet
    deliver(first)
    deliver(second)
    assert access(refunded_fan) == access(disputed_fan) == "FULL"
    assert api("GET", f"/api/entitlements/{seller.user_id}", user=refunded_fan)[1]["reason"] == "PURCHASE"
    deliver(refund(stripe, first["data"]["object"]["id"]))
    deliver(dispute_event(second))
    assert access(refunded_fan) == access(disputed_fan) == "PREVIEW"


def test_a_won_dispute_restores_the_full_track_and_a_lost_one_does_not(
    api: support.Api, stripe: StripeFake, seller: Seller
) -> None:
    def access(user: str) -> str:
        return str(_audio(api, user, seller.track_id)[1]["access"])

    winner, loser = fan(api), fan(api)
    won = pay(stripe, checkout(api, winner, seller)["paymentIntentId"])
    lost = pay(stripe, checkout(api, loser, seller)["paymentIntentId"])
    for succeeded in (won, lost):
        deliver(succeeded)
        deliver(dispute_event(succeeded))
    assert access(winner) == access(loser) == "PREVIEW"
    assert deliver(dispute_closed_event(won, "won"))[1]["outcome"] == "GRANTED"
    assert deliver(dispute_closed_event(lost, "lost"))[1]["outcome"] == "DISPUTED"
    assert (access(winner), access(loser)) == ("FULL", "PREVIEW")


def test_a_dispute_closed_before_it_was_created_converges(
    api: support.Api, stripe: StripeFake, seller: Seller
) -> None:
    buyer = fan(api)
    succeeded = pay(stripe, checkout(api, buyer, seller)["paymentIntentId"])
    assert deliver(dispute_closed_event(succeeded, "won"))[1]["outcome"] == "RECORDED_FOR_UNKNOWN_PURCHASE"
    assert deliver(succeeded)[1]["outcome"] == "GRANTED"
    assert deliver(dispute_event(succeeded))[1]["outcome"] == "GRANTED"  # the close already happened
    assert _audio(api, buyer, seller.track_id)[1]["access"] == "FULL"
    notifications = api("GET", "/api/notifications", user=seller.user_id)[1]["items"]
    mine = sorted(n["kind"] for n in notifications if n["purchaseId"] == succeeded["data"]["object"]["id"])
    assert mine == ["COLLECT", "DISPUTE", "DISPUTE_CLOSED"]


def test_entitlement_of_an_unknown_artist_is_404(api: support.Api, stripe: StripeFake) -> None:
    assert support.error_code(api("GET", "/api/entitlements/nobody", user=fan(api))) == (
        404,
        "ARTIST_NOT_FOUND",
    )


# Referrals


def _link(api: support.Api, referrer: str, seller: Seller) -> dict[str, Any]:
    status, body, _ = api("POST", f"/api/casset/{seller.handle}/referral-link", user=referrer)
    assert status == 201, body
    return dict(body)


def test_a_referral_link_redirects_to_the_artist_and_sets_the_attribution_cookie(
    api: support.Api, seller: Seller
) -> None:
    link = _link(api, fan(api), seller)
    assert link["url"].endswith(f"/r/{link['code']}")
    assert _link(api, fan(api), seller)["code"] != link["code"]
    status, _, headers = api("GET", f"/r/{link['code']}")
    assert status == 302 and headers["Location"].endswith(f"/{seller.handle}")
    unknown_status, _, unknown_headers = api("GET", "/r/zzzzzzzzzz")
    assert unknown_status == 302 and "/zzzz" not in unknown_headers["Location"]


def _cookie_of(api: support.Api, code: str) -> str:
    from api.app import lambda_handler
    from infra.local.functions import LambdaContext
    from tests.conftest import http_event

    response = lambda_handler(http_event("GET", f"/r/{code}"), LambdaContext("api", 512, 15))
    (cookie,) = response["cookies"]
    parts = [part.strip() for part in cookie.split(";")]
    assert parts[0].startswith("ref=")
    assert {"Secure", "HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=2592000"} <= set(parts)
    return parts[0]


def test_a_collect_through_the_cookie_credits_the_referrer(
    api: support.Api, stripe: StripeFake, seller: Seller
) -> None:
    referrer, buyer = fan(api), fan(api)
    cookie = _cookie_of(api, _link(api, referrer, seller)["code"])
    status, body, _ = _checkout_with_cookie(api, buyer, seller, cookie)
    assert status == 200 and body["referralCode"], body
    succeeded = pay(stripe, body["paymentIntentId"])
    deliver(succeeded)
    intent = body["paymentIntentId"]
    assert ledger_of(intent)[f"{intent}:referral-credit"] == 50  # 5 % of 1000
    summary = api("GET", "/api/studio/referrals", user=referrer)[1]
    assert summary["balances"] == [{"amount": 50, "currency": "USD"}]
    assert summary["pending"] == [{"amount": 50, "currency": "USD"}]
    assert summary["attributions"][0]["rewardState"] == "PENDING"
    deliver(refund(stripe, intent))
    summary = api("GET", "/api/studio/referrals", user=referrer)[1]
    assert summary["balances"] == [{"amount": 0, "currency": "USD"}]
    assert summary["attributions"][0]["rewardState"] == "CANCELLED"
    assert {entry["kind"] for entry in summary["entries"]} == {"REFERRAL_CREDIT", "REFERRAL_CREDIT_REVERSAL"}


def _checkout_with_cookie(api: support.Api, buyer: str, seller: Seller, cookie: str) -> tuple[int, Any, Any]:
    """The browser sends the `ref` cookie with the checkout call; API Gateway passes it in `cookies`."""
    import json

    from api.app import lambda_handler
    from infra.local.functions import LambdaContext
    from tests.conftest import http_event

    request = http_event(
        "POST", "/api/checkout/payment-intent", user=buyer, body={"artistSlug": seller.handle}
    )
    request["cookies"] = ["theme=dark", cookie]
    response = lambda_handler(request, LambdaContext("api", 512, 15))
    return response["statusCode"], json.loads(response["body"]), response.get("headers")


def test_a_dispute_freezes_the_referral_reward(api: support.Api, stripe: StripeFake, seller: Seller) -> None:
    referrer, buyer = fan(api), fan(api)
    code = _link(api, referrer, seller)["code"]
    body = checkout(api, buyer, seller, body={"referralCode": code})
    succeeded = pay(stripe, body["paymentIntentId"])
    deliver(succeeded)
    deliver(dispute_event(succeeded))
    summary = api("GET", "/api/studio/referrals", user=referrer)[1]
    assert summary["frozen"] == [{"amount": 50, "currency": "USD"}] and summary["pending"] == []


@pytest.mark.parametrize(
    ("status", "pending", "balance", "reward"),
    [("won", [{"amount": 50, "currency": "USD"}], 50, "PENDING"), ("lost", [], 0, "CANCELLED")],
)
def test_a_closed_dispute_releases_or_cancels_the_referral_reward(
    api: support.Api,
    stripe: StripeFake,
    seller: Seller,
    status: str,
    pending: list[dict[str, Any]],
    balance: int,
    reward: str,
) -> None:
    referrer, buyer = fan(api), fan(api)
    code = _link(api, referrer, seller)["code"]
    succeeded = pay(stripe, checkout(api, buyer, seller, body={"referralCode": code})["paymentIntentId"])
    deliver(succeeded)
    deliver(dispute_event(succeeded))
    deliver(dispute_closed_event(succeeded, status))
    deliver(dispute_closed_event(succeeded, status))  # another delivery of the same close changes nothing
    summary = api("GET", "/api/studio/referrals", user=referrer)[1]
    assert (summary["pending"], summary["frozen"]) == (pending, [])
    assert summary["balances"] == [{"amount": balance, "currency": "USD"}]
    assert summary["attributions"][0]["rewardState"] == reward


def test_self_referrals_and_other_artists_links_are_dropped(
    api: support.Api, stripe: StripeFake, seller: Seller
) -> None:
    buyer = fan(api)
    own_code = _link(api, buyer, seller)["code"]
    assert checkout(api, buyer, seller, body={"referralCode": own_code})["referralCode"] is None
    other = onboarded_artist(api, stripe)
    foreign = _link(api, fan(api), other)["code"]
    assert checkout(api, fan(api), seller, body={"referralCode": foreign})["referralCode"] is None


@pytest.mark.parametrize(
    ("age", "credited"),
    [
        (timedelta(days=30) - timedelta(seconds=1), True),
        (timedelta(days=30), True),
        (timedelta(days=30, seconds=1), False),
    ],
    ids=["just-inside", "exactly-30-days", "just-outside"],
)
def test_the_referral_window_is_30_days_measured_from_the_click(
    api: support.Api, stripe: StripeFake, seller: Seller, age: timedelta, credited: bool
) -> None:
    referrer, buyer = fan(api), fan(api)
    code = _link(api, referrer, seller)["code"]
    paid_at = int(time.time())
    clicked_at = int((datetime.fromtimestamp(paid_at, UTC) - age).timestamp())
    intent_id = f"pi_window_{support.fresh()}"
    succeeded = event(
        "payment_intent.succeeded",
        {
            "id": intent_id,
            "object": "payment_intent",
            "amount": 1000,
            "currency": "usd",
            "application_fee_amount": 100,
            "latest_charge": "ch_window",
            "metadata": {
                "cassetBuyerId": buyer,
                "cassetBuyerHandle": "someone",
                "cassetArtistId": seller.user_id,
                "cassetReferralCode": code,
                "cassetReferrerId": referrer,
                "cassetReferralClickedAt": str(clicked_at),
            },
        },
        created=paid_at,
    )
    assert deliver(succeeded)[0] == 200
    assert (f"{intent_id}:referral-credit" in ledger_of(intent_id)) is credited


# Bell, feed, rewards


def test_notifications_are_marked_read_by_their_owner_only(api: support.Api, stripe: StripeFake) -> None:
    artist = onboarded_artist(api, stripe)
    deliver(pay(stripe, checkout(api, fan(api), artist)["paymentIntentId"]))
    bell = api("GET", "/api/notifications", user=artist.user_id)[1]
    (item,) = bell["items"]
    assert bell["unread"] == 1 and item["read"] is False
    assert api("POST", "/api/notifications/read", user=fan(api), body={"ids": [item["id"]]})[1] == {
        "marked": 0
    }
    assert api("POST", "/api/notifications/read", user=artist.user_id, body={"ids": [item["id"]]})[1] == {
        "marked": 1
    }
    bell = api("GET", "/api/notifications", user=artist.user_id)[1]
    assert bell["unread"] == 0 and bell["items"][0]["read"] is True
    assert support.error_code(
        api("POST", "/api/notifications/read", user=artist.user_id, body={"ids": []})
    ) == (
        422,
        "VALIDATION_FAILED",
    )


def test_activity_feed_pages_newest_first(api: support.Api, stripe: StripeFake) -> None:
    artist = onboarded_artist(api, stripe)
    for _ in range(3):
        deliver(pay(stripe, checkout(api, fan(api), artist)["paymentIntentId"]))
    first = api("GET", f"/api/artists/{artist.user_id}/activity", query={"limit": "2"})[1]
    rest = api(
        "GET", f"/api/artists/{artist.user_id}/activity", query={"limit": "2", "cursor": first["nextCursor"]}
    )[1]
    ids = [item["id"] for item in first["items"] + rest["items"]]
    assert len(ids) == 3 and ids == sorted(ids, reverse=True) and rest["nextCursor"] is None


def test_track_rewards_are_set_by_the_owner_only(api: support.Api, stripe: StripeFake) -> None:
    owner = support.create_profile(api, artist=True)
    track = support.create_track(api, owner)["track"]["id"]
    reward = {
        "rewardAmount": 2500,
        "rewardCurrency": "usd",
        "rewardDescription": "10 fans who share get the demo",
    }
    status, body, _ = api("PUT", f"/api/tracks/{track}/reward", user=owner, body=reward)
    assert status == 200 and body["reward"] == {**reward, "rewardCurrency": "USD", "rewardActive": False}
    assert support.error_code(api("PUT", f"/api/tracks/{track}/reward", user=fan(api), body=reward)) == (
        403,
        "NOT_TRACK_OWNER",
    )
    assert (
        support.error_code(
            api("PUT", f"/api/tracks/{track}/reward", user=owner, body={**reward, "rewardAmount": 12.5})
        )[0]
        == 422
    )
    assert support.get_track(api, track)["reward"]["rewardActive"] is False


def test_preview_of_an_unknown_track_is_404(api: support.Api) -> None:
    assert support.error_code(api("GET", "/api/tracks/nothing/preview")) == (404, "TRACK_NOT_FOUND")
