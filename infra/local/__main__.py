# ruff: noqa: E501  (the walk-through is shell text meant to be copied whole)
"""`make dev`: the whole system on loopback, no Docker and no AWS account.

moto serves DynamoDB, S3, Lambda and IAM on 127.0.0.1; every table, bucket and S3 trigger comes from
template.yaml; the HTTP API on 127.0.0.1:3000 runs the real handlers; uploads to the presigned URLs land
in moto's S3 and invoke the real probe handler in this process. A Stripe API fake (localstripe plus
infra/local/stripe_fake.py) listens on loopback too and sends signed webhooks to the local endpoints;
the Stripe secrets are SSM SecureStrings in moto. Scheduled functions (the hourly reconciliation, the
upload expiry sweep) run at their template rates (infra/local/scheduler.py). moto behaves like AWS where
our code relies on it through infra/local/moto_patches.py (each function one event at a time, atomic
DynamoDB requests and its number limits, presigned POST policies enforced, on-failure destinations).
"""

import argparse
import logging
import os
import signal
import sys
import threading
from pathlib import Path

from werkzeug.serving import make_server

from infra.local import analytics_tap, scheduler
from infra.local.blueprint import REGION, RouteSpec, blueprint
from infra.local.functions import install_environment
from infra.local.gateway import Gateway
from infra.local.moto_patches import patch_moto
from infra.local.provision import provision
from infra.local.stripe_fake import API_KEY, StripeFake
from infra.local.tokens import issue, verify

LOCAL_ONLY_ROUTES = [RouteSpec("GET", "/swagger", "ApiFunction", authorized=False)]
ROOT = Path(__file__).resolve().parents[2]
# Every event on the local analytics bus, one JSON line each (infra/local/analytics_tap.py).
ANALYTICS_ARCHIVE = ROOT / ".local" / "analytics-events.jsonl"


def _feature_flags_file() -> str:
    """FEATURE_FLAGS_FILE when set (the tests point it at infra/feature-flags.json), else a fresh copy of
    that document in .local/ (git-ignored): edit it while the stack runs, the API reads it again on change,
    and the deployed document in infra/ stays untouched."""
    if chosen := os.environ.get("FEATURE_FLAGS_FILE"):
        return chosen
    copy = ROOT / ".local" / "feature-flags.json"
    copy.parent.mkdir(exist_ok=True)
    staging = copy.with_name(f".feature-flags.{os.getpid()}.json")
    staging.write_bytes((ROOT / "infra" / "feature-flags.json").read_bytes())
    os.replace(staging, copy)  # whole, so a running stack never reads half a file
    return str(copy)


def _aws_environment(moto_url: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_TRACE_DISABLED": "1",  # no X-Ray daemon here
        "ENABLE_SWAGGER": "true",
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("API_PORT", 3000)))
    parser.add_argument("--moto-port", type=int, default=int(os.environ.get("MOTO_PORT", 4566)))
    parser.add_argument("--stripe-port", type=int, default=int(os.environ.get("STRIPE_PORT", 12111)))
    parser.add_argument("--quiet", action="store_true", help="no walk-through, no request log")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO, format="%(message)s")
    for noisy in ("botocore", "werkzeug", "moto"):
        logging.getLogger(noisy).setLevel(logging.WARNING)

    from moto.server import ThreadedMotoServer

    moto = ThreadedMotoServer(ip_address=args.host, port=args.moto_port, verbose=False)
    moto.start()
    moto_url = f"http://{args.host}:{args.moto_port}"
    plan = blueprint()
    gateway = Gateway(plan, verify, extra_routes=LOCAL_ONLY_ROUTES)
    server = make_server(args.host, args.port, gateway, threaded=True)
    api_url = f"http://{args.host}:{server.server_port}"
    stripe = StripeFake.start(args.host, args.stripe_port)
    stripe.register_endpoints(api_url)
    local = {"STRIPE_API_BASE": stripe.url, "SHORT_LINK_BASE_URL": api_url}
    local["FEATURE_FLAGS_FILE"] = _feature_flags_file()
    install_environment(plan, extra=_aws_environment(moto_url) | local)
    undo = patch_moto(plan, asynchronous=True)
    provision(plan)
    stop_tap = analytics_tap.follow(plan, ANALYTICS_ARCHIVE)
    stop_schedules = scheduler.start(plan)

    if not args.quiet:
        flags_file = local["FEATURE_FLAGS_FILE"]
        print(_walkthrough(api_url, moto_url, plan.buckets[0].name, stripe.url, flags_file), flush=True)
    print(f"ready: API {api_url}  moto {moto_url}  stripe {stripe.url}", flush=True)

    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    stop.wait()
    server.shutdown()
    stop_schedules()
    stop_tap()
    undo()
    moto.stop()
    return 0


def _walkthrough(api: str, moto: str, bucket: str, stripe: str, flags: str) -> str:
    token = issue("artist-1")
    fan_token = issue("fan-1")
    return f"""
Casset Visual Pairing, running locally (state lives in memory until you stop it)

  API        {api}
  Swagger    {api}/swagger
  moto (AWS) {moto}   bucket {bucket}
  Stripe     {stripe}   (fake; key {API_KEY}; webhooks signed to /api/webhooks/stripe[/connect])
  Flags      {flags}
             (edit it while this runs: it is read again on change; each start copies infra/feature-flags.json
              there unless FEATURE_FLAGS_FILE names a file; see them: curl -s {api}/api/features?artistId=artist-1)

Walk-through (bash; needs curl and python3):

  export API={api}
  export TOKEN={token}   # make token SUB=artist-1
  auth=(-H "Authorization: Bearer $TOKEN" -H 'content-type: application/json')

  # 1. an artist profile
  curl -s "${{auth[@]}}" $API/api/users -d '{{"handle":"nightdrive","displayName":"Night Drive","isArtist":true}}'

  # 2. a track; the answer carries a presigned POST for the audio
  curl -s "${{auth[@]}}" $API/api/tracks \\
       -d '{{"title":"Night Drive","previewStartSec":30,"hookDurationSec":15,"audioContentType":"audio/mpeg"}}' > track.json
  TRACK=$(python3 -c 'import json;print(json.load(open("track.json"))["track"]["id"])')

  # 3. upload the audio with the returned fields (the probe measures it)
  python3 - <<'PY' > audio.sh && bash audio.sh
import json, shlex; u = json.load(open("track.json"))["audioUpload"]
print("curl -s " + " ".join(f"-F {{shlex.quote(k + '=' + v)}}" for k, v in u["fields"].items())
      + " -F file=@song.mp3 " + shlex.quote(u["url"]))
PY

  # 4. a visual: create it, upload the MP4 the same way, then watch PROCESSING -> READY (or FAILED)
  curl -s "${{auth[@]}}" $API/api/tracks/$TRACK/visuals -d '{{"contentType":"video/mp4"}}' > visual.json
  VISUAL=$(python3 -c 'import json;print(json.load(open("visual.json"))["visual"]["id"])')
  python3 - <<'PY' > upload.sh && bash upload.sh
import json, shlex; u = json.load(open("visual.json"))["upload"]
print("curl -s " + " ".join(f"-F {{shlex.quote(k + '=' + v)}}" for k, v in u["fields"].items())
      + " -F file=@loop.mp4 " + shlex.quote(u["url"]))
PY
  curl -s "${{auth[@]}}" $API/api/studio/visuals/$VISUAL

  # 4b. metrics on the READY visual: 202 {{eventId, counted}}; a repeated impression says counted: false.
  #     The aggregator settles the counters at once here; every event also shows in this console
  #     ("analytics ...", the local bus's tap) and in .local/analytics-events.jsonl
  curl -s $API/api/visuals/$VISUAL/event -H 'content-type: application/json' -d '{{"type":"impression"}}'
  curl -s "${{auth[@]}}" $API/api/me/visuals/$VISUAL/event -d '{{"type":"pairing"}}'
  curl -s $API/api/visuals/$VISUAL                             # metrics: impressions 1, pairings 1

  # 4c. the library (V2): tag the visual and the track (free text is normalised to the allowlist), filter
  #     the fan switcher, ask for suggestions, share the hook with this visual and open the short link
  curl -s -X PATCH "${{auth[@]}}" $API/api/tracks/$TRACK/visuals/$VISUAL \\
       -d '{{"tags":["Lo-Fi","moody","35mm"],"bpmMin":70,"bpmMax":95}}'
  curl -s -X PATCH "${{auth[@]}}" $API/api/tracks/$TRACK -d '{{"tags":["lofi","dark"]}}'
  curl -s "$API/api/tracks/$TRACK/visuals?tag=dark&bpm=80"
  curl -s "${{auth[@]}}" $API/api/tracks/$TRACK/visuals/suggestions   # reason: "matched on: dark, lo-fi · ..."
  curl -s "${{auth[@]}}" $API/api/shares -d "{{\\"trackId\\":\\"$TRACK\\",\\"visualAssetId\\":\\"$VISUAL\\"}}" > share.json
  curl -si $(python3 -c 'import json;print(json.load(open("share.json"))["url"])') | grep -i '^location'

  # 5. list (anonymous), make it active, archive it
  curl -s $API/api/tracks/$TRACK/visuals
  curl -s -X PATCH "${{auth[@]}}" $API/api/tracks/$TRACK/visuals/$VISUAL/active -d '{{"active":true}}'
  curl -s -X POST "${{auth[@]}}" $API/api/tracks/$TRACK/visuals/$VISUAL/archive

Commerce walk-through (after 1-3: the artist has a profile and a track with probed audio):

  export STRIPE={stripe} SK={API_KEY}
  export FAN={fan_token}   # make token SUB=fan-1
  fan=(-H "Authorization: Bearer $FAN" -H 'content-type: application/json')

  # 6. the artist connects Stripe and opens the onboarding link (the fake completes onboarding at once
  #    and sends account.updated to the Connect endpoint), then sets a price
  curl -s -X POST "${{auth[@]}}" $API/api/studio/stripe/connect > connect.json
  curl -s -o /dev/null "$(python3 -c 'import json;print(json.load(open("connect.json"))["onboardingUrl"])')"
  sleep 1; curl -s "${{auth[@]}}" $API/api/users/me            # stripeOnboardingComplete: true
  curl -s -X PUT "${{auth[@]}}" $API/api/studio/collect-price -d '{{"amount":500,"currency":"USD"}}'

  # 7. a fan collects: a PaymentIntent, then the card "confirms" at the fake (what Stripe.js would do)
  curl -s "${{fan[@]}}" $API/api/users -d '{{"handle":"fan_one","displayName":"Fan","isArtist":false}}'
  curl -s "${{fan[@]}}" $API/api/checkout/payment-intent -d '{{"artistSlug":"nightdrive"}}' > pi.json
  PI=$(python3 -c 'import json;print(json.load(open("pi.json"))["paymentIntentId"])')
  curl -s -u $SK: $STRIPE/v1/payment_intents/$PI -d payment_method=pm_card_visa > /dev/null
  curl -s -u $SK: -X POST $STRIPE/v1/payment_intents/$PI/confirm > /dev/null

  # 8. payment_intent.succeeded reaches the webhook (signed), which grants: full track, bell, feed
  sleep 1; curl -s "${{fan[@]}}" $API/api/tracks/$TRACK/audio          # access: FULL
  curl -s "${{auth[@]}}" $API/api/notifications
  curl -s $API/api/artists/artist-1/activity

  # 9. a refund at the fake sends charge.refunded: back to the hook preview at once
  curl -s -u $SK: $STRIPE/v1/refunds -d payment_intent=$PI > /dev/null
  sleep 1; curl -s "${{fan[@]}}" $API/api/tracks/$TRACK/audio          # access: PREVIEW
"""


if __name__ == "__main__":
    sys.exit(main())
