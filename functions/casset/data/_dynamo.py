"""What the repositories share: settings binding, transactions and SDK-error translation."""

import threading
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

from pynamodb.connection import Connection
from pynamodb.exceptions import DoesNotExist, PutError, PynamoDBException, TransactWriteError, UpdateError
from pynamodb.expressions.condition import Condition
from pynamodb.expressions.update import Action
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from casset.data.tables import bind_tables
from casset.errors import DomainError, Unavailable
from casset.settings import get_settings

_THROTTLING = {"ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded"}
# A cancelled transaction's reasons for an item DynamoDB had no capacity for at that moment.
_THROTTLED_ITEM = {"ThrottlingError", "ProvisionedThroughputExceeded"}


def set_or_remove(item_class: type[Model], changes: Mapping[str, object]) -> list[Action]:
    """Update actions from snake_case attribute names; None removes the attribute."""
    return [
        getattr(item_class, name).remove() if value is None else getattr(item_class, name).set(value)
        for name, value in changes.items()
    ]


def fetch[M: Model](item_class: type[M], *key: Any, **options: Any) -> M | None:
    """The item at this key, or None; the table bound and SDK errors translated."""
    ready()
    with translated_errors():
        try:
            return item_class.get(*key, **options)
        except DoesNotExist:
            return None


def save_new(item: Model, condition: Condition, taken: DomainError) -> None:
    """Put the item only if its key is new; otherwise raise `taken`."""
    if not put_if(item, condition):
        raise taken


def put_if(item: Model, condition: Condition) -> bool:
    """Put the item only where the condition holds; False when it does not."""
    ready()
    with translated_errors():
        try:
            item.save(condition=condition)
        except PutError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
    return True


def update_if(item: Model, actions: Sequence[Action], condition: Condition | None) -> bool:
    """Apply the update only where the condition holds; False when it does not. On success the item
    holds the stored values."""
    ready()
    with translated_errors():
        try:
            item.update(actions=list(actions), condition=condition)
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException":
                return False
            raise
    return True


def ready() -> None:
    bind_tables(get_settings())


def cancellation_codes(error: TransactWriteError) -> list[str | None]:
    return [reason.code if reason else None for reason in (error.cancellation_reasons or [])]


def is_throttled(error: PynamoDBException) -> bool:
    """Refused for load, a call or one item of a transaction (which DynamoDB then cancels whole)."""
    if error.cause_response_code in _THROTTLING:
        return True
    return isinstance(error, TransactWriteError) and not _THROTTLED_ITEM.isdisjoint(cancellation_codes(error))


def is_conflict(error: PynamoDBException) -> bool:
    """A single-item write that met a transaction in progress on its item."""
    return error.cause_response_code == "TransactionConflictException"


_local = threading.local()


def _connection() -> Connection:
    """One per thread, kept for the container's life: a new Connection builds a new botocore client."""
    if not hasattr(_local, "connection"):
        _local.connection = Connection()
    connection: Connection = _local.connection
    return connection


def request_token() -> str:
    """A ClientRequestToken: what makes one TransactWriteItems idempotent for ten minutes."""
    return str(uuid.uuid4())


@contextmanager
def transaction(client_request_token: str | None = None) -> Iterator[TransactWrite]:
    """One TransactWriteItems, always with a ClientRequestToken: botocore retries a call whose answer was
    lost, and without one the retry of a transaction that did commit is cancelled by its own first
    attempt's writes (ConditionalCheckFailed). A caller that runs the same transaction again (after a
    TransactionConflict) passes one token to every run; otherwise each transaction gets its own."""
    ready()
    token = client_request_token or request_token()
    with TransactWrite(connection=_connection(), client_request_token=token) as writer:
        yield writer


@contextmanager
def translated_errors() -> Iterator[None]:
    """Throttling is the caller's to retry (503); anything else is a bug and stays a 500."""
    try:
        yield
    except PynamoDBException as error:
        if is_throttled(error):
            raise Unavailable("The database is busy; retry shortly.") from error
        raise
