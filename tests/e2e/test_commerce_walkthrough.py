"""The commerce walk-through over plain HTTP against the local stack (`make dev`): connect Stripe, finish
onboarding (account.updated reaches the Connect endpoint), set a price, collect, confirm at the Stripe
fake, and watch its signed payment_intent.succeeded webhook unlock the full track; then a refund at the
fake takes it back."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests

from infra.local.stripe_fake import API_KEY
from tests.e2e.test_visual_lifecycle import Client, upload
from tests.media_factory import make_audio

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("e2e")]


def eventually(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.2)


def test_a_fan_collects_and_the_webhook_unlocks_the_full_track(stack: Any, tmp_path: Path) -> None:
    artist = Client(stack.url, stack.token("e2e-seller"))
    fan = Client(stack.url, stack.token("e2e-fan"))
    stripe = requests.Session()
    stripe.auth = (API_KEY, "")
    assert artist.call(
        "POST", "/api/users", {"handle": "e2e_seller", "displayName": "Seller", "isArtist": True}
    ).ok
    assert fan.call("POST", "/api/users", {"handle": "e2e_fan", "displayName": "Fan"}).ok

    track = artist.call(
        "POST",
        "/api/tracks",
        {"title": "Paid", "previewStartSec": 1, "hookDurationSec": 5, "audioContentType": "audio/mpeg"},
    ).json()
    track_id = track["track"]["id"]
    assert upload(track["audioUpload"], make_audio(tmp_path / "song.mp3", seconds=8.0)).ok
    preview = eventually(lambda: (r := fan.call("GET", f"/api/tracks/{track_id}/audio")).ok and r.json())
    assert preview and preview["access"] == "PREVIEW"

    connected = artist.call("POST", "/api/studio/stripe/connect").json()
    assert requests.get(connected["onboardingUrl"], allow_redirects=False, timeout=10).status_code == 302
    assert eventually(lambda: artist.call("GET", "/api/users/me").json()["stripeOnboardingComplete"])
    assert artist.call("PUT", "/api/studio/collect-price", {"amount": 700, "currency": "USD"}).ok

    checkout = fan.call("POST", "/api/checkout/payment-intent", {"artistSlug": "e2e_seller"})
    assert checkout.status_code == 200, checkout.text
    intent = checkout.json()["paymentIntentId"]
    assert checkout.json()["applicationFeeAmount"] == 70
    assert stripe.post(
        f"{stack.stripe_url}/v1/payment_intents/{intent}", data={"payment_method": "pm_card_visa"}
    ).ok
    assert (
        stripe.post(f"{stack.stripe_url}/v1/payment_intents/{intent}/confirm").json()["status"] == "succeeded"
    )

    full = eventually(
        lambda: (body := fan.call("GET", f"/api/tracks/{track_id}/audio").json())["access"] == "FULL" and body
    )
    assert full, "the signed webhook did not grant access"
    assert "/tracks/" in full["url"] and requests.get(full["url"], timeout=10).ok
    assert fan.call("GET", f"/api/entitlements/{track['track']['artistId']}").json()["entitled"] is True
    bell = artist.call("GET", "/api/notifications").json()
    assert [item["kind"] for item in bell["items"]] == ["COLLECT"]

    assert stripe.post(f"{stack.stripe_url}/v1/refunds", data={"payment_intent": intent}).ok
    assert eventually(lambda: fan.call("GET", f"/api/tracks/{track_id}/audio").json()["access"] == "PREVIEW")
