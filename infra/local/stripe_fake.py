"""A Stripe API fake on loopback: localstripe (pinned), plus exactly what it lacks for Stripe Connect.

localstripe 1.15.10 creates and confirms PaymentIntents, keeps charges, refunds and events, and sends
webhooks signed the way Stripe signs them (t=...,v1=HMAC-SHA256). It has no Connect. Filled here, and
only here:

- Account (Express), AccountLink, and a hosted "onboarding" page (GET /_config/onboarding/{account},
  under upstream's unauthenticated /_config/ since a browser opens it) that enables charges and payouts
  and emits account.updated for that account; POST /_config/accounts/{account}/restrict plays Stripe
  asking for more information (payouts disabled, account.updated). GET /v1/accounts/{id} reads it back.
- PaymentIntent accepts transfer_data, application_fee_amount and description; a succeeded destination
  payment creates its Transfer (tr_), the connected account's payment (py_) and that account's balance
  transaction, as Stripe does. Transfer reversals (POST /v1/transfers/{id}/reversals).
- Refunds emit charge.refunded; Idempotency-Key replays the first
  answer; events carry `account` for connected accounts and are listed per account (Stripe-Account
  header) and by delivery_success; balance transactions filter by payout and type.
- A connected account's payout (POST /_config/accounts/{account}/payouts) pays its available balance and
  emits payout.paid, so the daily payout can be played.
- Webhooks registered under an id starting with "connect" receive connected-account events only, the
  others platform events only, like Stripe's two endpoint kinds; each delivery's result is recorded.
  The store stays in memory (upstream pickles it to /tmp on every write), and ids come from the OS's
  random source (upstream uses the global `random`, which test frameworks such as Hypothesis reseed,
  so two runs would mint the same ids).

Run it in-process on a thread: `StripeFake.start()` (tests and `make dev`); one per process.
"""

import asyncio
import contextvars
import hashlib
import hmac
import json
import logging
import secrets
import string
import threading
import time
from typing import Any
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from localstripe import resources, server, webhooks
from localstripe.errors import UserError
from localstripe.resources import Charge, Event, PaymentIntent, Refund, StripeObject

from infra.local.blueprint import LOCAL_PARAMETERS, LOCAL_SECRETS

PINNED_LOCALSTRIPE = "1.15.10"
API_KEY = LOCAL_SECRETS["STRIPE_API_KEY_PARAMETER"]
PUBLISHABLE_KEY = LOCAL_PARAMETERS["StripePublishableKey"]
PLATFORM_WEBHOOK_SECRET = LOCAL_SECRETS["STRIPE_WEBHOOK_SECRET_PARAMETER"]
CONNECT_WEBHOOK_SECRET = LOCAL_SECRETS["STRIPE_CONNECT_WEBHOOK_SECRET_PARAMETER"]
PLATFORM_EVENTS = [
    "payment_intent.succeeded",
    "charge.refunded",
    "charge.dispute.created",
    "charge.dispute.updated",
    "charge.dispute.closed",
]
CONNECT_EVENTS = ["account.updated", "payout.paid"]
logger = logging.getLogger("casset.stripe")

_account_context: contextvars.ContextVar[str | None] = contextvars.ContextVar("stripe_account", default=None)
_delivered: dict[str, bool] = {}  # event id -> every delivery answered 2xx
_idempotent: dict[str, tuple[int, bytes]] = {}
_idempotency_locks: dict[str, asyncio.Lock] = {}


def _emit(event_type: str, obj: StripeObject, account: str | None = None) -> Event:
    event = Event(event_type, obj)
    if account:
        event.account = account
    webhooks.schedule_webhook(event)
    return event


class Account(StripeObject):
    object = "account"
    _id_prefix = "acct_"

    def __init__(
        self,
        type: str | None = None,
        metadata: dict | None = None,
        capabilities: Any = None,
        email: str | None = None,
        country: str | None = None,
        **kwargs: Any,
    ) -> None:
        if type not in ("express", "standard", "custom"):
            raise UserError(400, "Bad request: type")
        super().__init__()
        self.type = type
        self.metadata = metadata or {}
        self.email = email
        self.country = country or "US"
        self.charges_enabled = False
        self.payouts_enabled = False
        self.details_submitted = False
        self.capabilities = {name: "inactive" for name in (capabilities or {})}

    def _complete_onboarding(self) -> None:
        self.charges_enabled = self.payouts_enabled = self.details_submitted = True
        self.capabilities = {name: "active" for name in self.capabilities}
        _emit("account.updated", self, account=self.id)

    def _restrict(self) -> None:
        self.payouts_enabled = False
        _emit("account.updated", self, account=self.id)


class AccountLink(StripeObject):
    object = "account_link"
    _id_prefix = "acctlink_"

    def __init__(
        self,
        account: str | None = None,
        refresh_url: str | None = None,
        return_url: str | None = None,
        type: str | None = None,
        **kwargs: Any,
    ) -> None:
        if not account or not return_url or type != "account_onboarding":
            raise UserError(400, "Bad request")
        Account._api_retrieve(account)
        super().__init__()
        self.url = f"{_public_url}/_config/onboarding/{account}?{urlencode({'return_url': return_url})}"
        self.expires_at = self.created + 300


class Transfer(StripeObject):
    object = "transfer"
    _id_prefix = "tr_"

    def __init__(self, amount: int, currency: str, destination: str, source_transaction: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.destination = destination
        self.source_transaction = source_transaction
        self.amount_reversed = 0
        self.reversed = False
        self.destination_payment: str | None = None


class ConnectedPayment(StripeObject):
    """The payment (py_) a destination transfer creates on the connected account."""

    object = "charge"
    _id_prefix = "py_"

    def __init__(self, amount: int, currency: str, account: str, source_transfer: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.source_transfer = source_transfer
        self.status = "succeeded"
        self._account = account


class ConnectedBalanceTransaction(StripeObject):
    object = "balance_transaction"
    _id_prefix = "txn_"

    def __init__(self, amount: int, currency: str, account: str, source: str, type: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.source = source
        self.type = type
        self.status = "available"
        self.payout: str | None = None
        self._account = account


class ConnectedPayout(StripeObject):
    object = "payout"
    _id_prefix = "po_"

    def __init__(self, amount: int, currency: str, account: str) -> None:
        super().__init__()
        self.amount = amount
        self.currency = currency
        self.status = "paid"
        self.automatic = True
        self.arrival_date = self.created
        self._account = account


class TransferReversal(StripeObject):
    object = "transfer_reversal"
    _id_prefix = "trr_"

    def __init__(self, transfer: Transfer, amount: int, metadata: dict | None) -> None:
        super().__init__()
        self.transfer = transfer.id
        self.amount = amount
        self.currency = transfer.currency
        self.metadata = metadata or {}


_original_pi_init = PaymentIntent.__init__
_original_on_success = PaymentIntent._on_success
_original_refund_init = Refund.__init__
_original_event_list = Event._api_list_all.__func__
_public_url = "http://127.0.0.1"


def _payment_intent_init(
    self: PaymentIntent,
    transfer_data: dict | None = None,
    application_fee_amount: Any = None,
    description: str | None = None,
    transfer_group: str | None = None,
    **kwargs: Any,
) -> None:
    if transfer_data is not None:
        destination = transfer_data.get("destination") if isinstance(transfer_data, dict) else None
        account = Account._api_retrieve(destination) if destination else None
        if account is None or not account.charges_enabled:
            raise UserError(400, "The destination account cannot receive payments yet")
    fee = resources.try_convert_to_int(application_fee_amount) if application_fee_amount is not None else None
    _original_pi_init(self, **kwargs)
    self.transfer_data = transfer_data
    self.application_fee_amount = fee
    self.description = description
    self.transfer_group = transfer_group


def _payment_intent_succeeded(self: PaymentIntent) -> None:
    charge = self.latest_charge
    destination = (self.transfer_data or {}).get("destination")
    if destination and charge is not None and getattr(charge, "transfer", None) is None:
        share = self.amount - (self.application_fee_amount or 0)
        transfer = Transfer(share, self.currency, destination, charge.id)
        payment = ConnectedPayment(share, self.currency, destination, transfer.id)
        transfer.destination_payment = payment.id
        ConnectedBalanceTransaction(share, self.currency, destination, payment.id, "payment")
        charge.transfer = transfer.id
        charge.application_fee_amount = self.application_fee_amount
        charge.transfer_data = self.transfer_data
        charge.metadata = dict(self.metadata or {})
    _original_on_success(self)


def _refund_init(
    self: Refund, *args: Any, reverse_transfer: Any = None, refund_application_fee: Any = None, **kwargs: Any
) -> None:
    _original_refund_init(self, *args, **kwargs)
    _emit("charge.refunded", Charge._api_retrieve(self.charge))


def _event_list(cls: type, url: str, delivery_success: Any = None, **kwargs: Any) -> Any:
    listed = _original_event_list(cls, url, **kwargs)
    account = _account_context.get()
    wanted = resources.try_convert_to_bool(delivery_success)
    listed._list = [
        event
        for event in listed._list
        if getattr(event, "account", None) == account
        and (wanted is None or _delivered.get(event.id, True) == wanted)
    ]
    return listed


def _balance_transaction_list(
    cls: type,
    url: str,
    limit: Any = None,
    starting_after: Any = None,
    payout: str | None = None,
    type: str | None = None,
    **kwargs: Any,
) -> Any:
    listed = resources.List(url, limit=limit, starting_after=starting_after)
    account = _account_context.get()
    listed._list = [
        value
        for key, value in resources.store.items()
        if key.startswith("balance_transaction:")
        and getattr(value, "_account", None) == account
        and (payout is None or getattr(value, "payout", None) == payout)
        and (type is None or value.type == type)
    ]
    return listed


def _reverse_transfer(
    id: str, amount: Any = None, metadata: dict | None = None, **kwargs: Any
) -> TransferReversal:
    transfer = Transfer._api_retrieve(id)
    value = (
        resources.try_convert_to_int(amount)
        if amount is not None
        else transfer.amount - transfer.amount_reversed
    )
    if not isinstance(value, int) or value <= 0 or transfer.amount_reversed + value > transfer.amount:
        raise UserError(400, "Bad request: reversal amount")
    transfer.amount_reversed += value
    transfer.reversed = transfer.amount_reversed == transfer.amount
    ConnectedBalanceTransaction(
        -value, transfer.currency, transfer.destination, transfer.id, "transfer_refund"
    )
    return TransferReversal(transfer, value, metadata)


async def _onboarding_page(request: web.Request) -> web.Response:
    account = Account._api_retrieve(request.match_info["account"])
    account._complete_onboarding()
    raise web.HTTPFound(request.query.get("return_url", "/"))


async def _restrict_account(request: web.Request) -> web.Response:
    account = Account._api_retrieve(request.match_info["account"])
    account._restrict()
    return server.json_response(account._export())


async def _connected_payout(request: web.Request) -> web.Response:
    account = request.match_info["account"]
    Account._api_retrieve(account)
    unpaid = [
        value
        for key, value in resources.store.items()
        if key.startswith("balance_transaction:")
        and getattr(value, "_account", None) == account
        and getattr(value, "payout", "") is None
    ]
    if not unpaid or sum(txn.amount for txn in unpaid) <= 0:
        raise UserError(400, "Nothing to pay out")
    payout = ConnectedPayout(sum(txn.amount for txn in unpaid), unpaid[0].currency, account)
    for transaction in unpaid:
        transaction.payout = payout.id
    _emit("payout.paid", payout, account=account)
    return server.json_response(payout._export())


@web.middleware
async def _stripe_account(request: web.Request, handler: Any) -> web.StreamResponse:
    token = _account_context.set(request.headers.get("Stripe-Account"))
    try:
        return await handler(request)
    finally:
        _account_context.reset(token)


@web.middleware
async def _idempotency(request: web.Request, handler: Any) -> web.StreamResponse:
    key = request.headers.get("Idempotency-Key")
    if request.method != "POST" or not key:
        return await handler(request)
    scoped = f"{request.headers.get('Authorization', '')}|{request.path}|{key}"
    lock = _idempotency_locks.setdefault(scoped, asyncio.Lock())
    async with lock:
        if scoped in _idempotent:
            status, body = _idempotent[scoped]
            return web.Response(status=status, body=body, content_type="application/json")
        response = await handler(request)
        if isinstance(response, web.Response) and response.status < 500:
            _idempotent[scoped] = (
                response.status,
                response.body if isinstance(response.body, bytes) else b"",
            )
        return response


async def _send_webhook(event: Event) -> None:
    """Upstream's sender, with Stripe's routing: connect endpoints get connected-account events only."""
    payload = json.dumps(event._export(), indent=2, sort_keys=True).encode("utf-8")
    await asyncio.sleep(0.2)
    delivered = True
    attempted = False
    for webhook_id, webhook in list(webhooks._webhooks.items()):
        is_connect_event = getattr(event, "account", None) is not None
        if webhook_id.startswith("connect") != is_connect_event:
            continue
        if webhook.events is not None and event.type not in webhook.events:
            continue
        attempted = True
        timestamp = int(time.time())
        signature = hmac.new(
            webhook.secret.encode(), b"%d.%s" % (timestamp, payload), hashlib.sha256
        ).hexdigest()
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Stripe-Signature": f"t={timestamp},v1={signature}",
        }
        try:
            async with (
                aiohttp.ClientSession() as session,
                session.post(webhook.url, data=payload, headers=headers) as r,
            ):
                delivered &= 200 <= r.status < 300
                logger.info("webhook %s %s -> %s", event.type, event.id, r.status)
        except aiohttp.ClientError as error:
            delivered = False
            logger.info("webhook %s %s failed: %s", event.type, event.id, error)
    if attempted:
        _delivered[event.id] = delivered


def _random_id(length: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(length))


def _install() -> None:
    from importlib.metadata import version

    installed = version("localstripe")
    if installed != PINNED_LOCALSTRIPE:
        raise RuntimeError(f"stripe_fake fills localstripe {PINNED_LOCALSTRIPE}'s gaps; found {installed}")
    resources.random_id = _random_id
    resources.store.dump_to_disk = lambda: None
    server.store.dump_to_disk = lambda: None
    PaymentIntent.__init__ = _payment_intent_init
    PaymentIntent._on_success = _payment_intent_succeeded
    Refund.__init__ = _refund_init
    Event._api_list_all = classmethod(_event_list)
    resources.BalanceTransaction._api_list_all = classmethod(_balance_transaction_list)
    webhooks._send_webhook = _send_webhook
    app = server.app
    app.middlewares.append(_stripe_account)
    app.middlewares.append(_idempotency)
    for cls in (Account, AccountLink, Transfer):
        base = f"/v1/{cls.object}s"
        app.router.add_post(base, server.api_create(cls, base))
        if cls is not AccountLink:
            app.router.add_get(base + "/{id}", server.api_retrieve(cls, base))
            app.router.add_post(base + "/{id}", server.api_update(cls, base))
    app.router.add_post(
        "/v1/transfers/{id}/reversals", server.api_extra(_reverse_transfer, "/v1/transfers/{id}/reversals")
    )
    app.router.add_get("/_config/onboarding/{account}", _onboarding_page)
    app.router.add_post("/_config/accounts/{account}/payouts", _connected_payout)
    app.router.add_post("/_config/accounts/{account}/restrict", _restrict_account)


class StripeFake:
    """The fake on 127.0.0.1 in a daemon thread of this process."""

    _instance: "StripeFake | None" = None

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.url = ""
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int = 0) -> "StripeFake":
        """Start it (once per process) and return it; later calls return the running one."""
        if cls._instance is None:
            _install()
            fake = cls(host, port)
            threading.Thread(target=fake._serve, name="stripe-fake", daemon=True).start()
            if not fake._ready.wait(timeout=15):
                raise RuntimeError("the Stripe fake did not start")
            cls._instance = fake
        return cls._instance

    def _serve(self) -> None:
        global _public_url
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        runner = web.AppRunner(server.app, access_log=None)
        self._loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, self.host, self.port)
        self._loop.run_until_complete(site.start())
        self.port = runner.addresses[0][1]
        self.url = _public_url = f"http://{self.host}:{self.port}"
        self._ready.set()
        self._loop.run_forever()

    def register_webhook(self, name: str, url: str, secret: str, events: list[str] | None = None) -> None:
        """Names starting with "connect" are Connect endpoints (connected-account events)."""
        webhooks.register_webhook(name, url, secret, events)

    def events(self, event_type: str, object_id: str) -> list[dict[str, Any]]:
        """The events of one type about one object, as Stripe would send them (for tests)."""
        found = [
            value
            for key, value in list(resources.store.items())
            if key.startswith("event:")
            and value.type == event_type
            and value.data["object"].get("id") == object_id
        ]
        return [event._export() for event in sorted(found, key=lambda event: event.created)]

    def mark_undelivered(self, event_id: str) -> None:
        """As if every delivery of the event had failed (to exercise the reconciliation)."""
        _delivered[event_id] = False

    def register_endpoints(self, api_url: str) -> None:
        """Both of our webhook endpoints, as one would configure them in Stripe's Dashboard."""
        base = api_url.rstrip("/")
        self.register_webhook(
            "platform", f"{base}/api/webhooks/stripe", PLATFORM_WEBHOOK_SECRET, PLATFORM_EVENTS
        )
        self.register_webhook(
            "connect", f"{base}/api/webhooks/stripe/connect", CONNECT_WEBHOOK_SECRET, CONNECT_EVENTS
        )
