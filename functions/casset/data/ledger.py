"""Reads of the append-only CreditLedger (its lines are written with the purchase effects that cause them,
in data/purchases.py)."""

from casset.data._dynamo import ready, translated_errors
from casset.data.tables import LedgerEntryItem
from casset.entities import LedgerEntry


def _to_entry(item: LedgerEntryItem) -> LedgerEntry:
    return LedgerEntry(
        id=item.id,
        account_id=item.account_id,
        kind=item.kind,
        amount=int(item.amount),
        currency=item.currency,
        purchase_id=item.purchase_id,
        reverses=item.reverses,
        created_at=item.created_at,
    )


def entries_of(account_id: str, kinds: frozenset[str] | None = None) -> list[LedgerEntry]:
    """Every line of one account, newest first (a key query over the byAccount index, all pages)."""
    ready()
    with translated_errors():
        items = LedgerEntryItem.by_account.query(account_id, scan_index_forward=False)
        entries = [_to_entry(item) for item in items]
    return [entry for entry in entries if kinds is None or entry.kind in kinds]


def get_entry(entry_id: str) -> LedgerEntry | None:
    ready()
    with translated_errors():
        try:
            return _to_entry(LedgerEntryItem.get(entry_id, consistent_read=True))
        except LedgerEntryItem.DoesNotExist:
            return None
