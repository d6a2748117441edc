"""Writes to the ledger: every posting's entries sum to zero, checked here before the
write and, on PostgreSQL, by a trigger after it (migration 0003)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ringup.engine import ledger
from ringup.sql import insert_groups, insert_rows

from ..models import Entry, Posting

SOURCES = {
    Posting.Kind.INVOICE: "invoice_id",
    Posting.Kind.CREDIT_NOTE: "credit_note_id",
    Posting.Kind.PAYMENT: "payment_id",
}


@dataclass(frozen=True)
class NewPosting:
    kind: Posting.Kind
    source_id: int  # the invoice, credit note or payment posted
    at: datetime
    currency: str
    description: str
    entries: tuple[ledger.Entry, ...]


def post_many(postings: Sequence[NewPosting]) -> int:
    """Write ``postings`` (all of one kind) with their entries; returns entries written.

    Call inside the transaction that writes their sources: a source and its posting are
    committed together or not at all.
    """
    if not postings:
        return 0
    kinds = {posting.kind for posting in postings}
    if len(kinds) != 1:
        raise ValueError("post_many takes postings of one kind")
    source = SOURCES[kinds.pop()]
    for posting in postings:
        ledger.check_balanced(posting.entries)
    ids = dict(
        (source_id, pk)
        for pk, source_id in insert_rows(
            Posting,
            ["kind", "at", "currency", "description", source],
            [(p.kind.value, p.at, p.currency, p.description, p.source_id) for p in postings],
            returning=["id", source],
        )
    )
    groups = [
        [
            (ids[p.source_id], entry.account.value, entry.customer, entry.amount)
            for entry in p.entries
        ]
        for p in postings
        if p.entries
    ]
    insert_groups(Entry, ["posting_id", "account", "customer_id", "amount"], groups)
    return sum(len(group) for group in groups)


def post(posting: NewPosting) -> Posting:
    """Write one posting; returns it."""
    post_many([posting])
    return Posting.objects.get(**{SOURCES[posting.kind]: posting.source_id})
