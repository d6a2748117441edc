"""Customers' phone numbers (DIDs): assigning and releasing them, loading the switch's
number inventory, and reading which numbers a customer holds and the inbound traffic each
received.

A number is written as E.164 digits, normalised the way the CDR import reads dialled
numbers (national numbers of ``RINGUP_CDR_COUNTRY``), so an inbound call's destination
and the inventory's number meet. Holding is insert-or-nothing under the partial unique
constraint on numbers not released: two assignments of one number at the same instant
give it to one customer.
"""

import csv
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q, Sum

from ringup.customers.models import Customer
from ringup.engine.rating import Numbering, normalise

from .models import PhoneNumber, RatedCall

INBOUND = "inbound"
INVENTORY_COLUMNS = ("account", "number")


class NumberError(ValueError):
    """A number that cannot be assigned or released; the message says why."""


def numbering() -> Numbering:
    """National numbers of ``RINGUP_CDR_COUNTRY``, as the CDR import reads them."""
    return Numbering(country=settings.RINGUP_CDR_COUNTRY or None)


def e164(number: str) -> str:
    """The E.164 digits of ``number`` ("+7 495 123-45-67", "84951234567" …)."""
    digits = normalise(pl.Series([str(number).strip()]), numbering())[0]
    if not digits:
        raise NumberError(f"{number!r} is not a phone number")
    return digits


def assign_number(customer: Customer, number: str, *, at: datetime) -> PhoneNumber:
    """Give ``number`` to ``customer`` from ``at``. Holding it already changes nothing;
    a number another customer holds must be released first."""
    digits = e164(number)
    PhoneNumber.objects.bulk_create(
        [PhoneNumber(customer=customer, number=digits, assigned_at=at)], ignore_conflicts=True
    )
    held = PhoneNumber.objects.select_related("customer").get(number=digits, released_at=None)
    if held.customer_id != customer.pk:
        raise NumberError(f"+{digits} is held by {held.customer.name}: release it first")
    return held


def release_number(number: str, *, at: datetime) -> PhoneNumber:
    """End the holding of ``number`` at ``at`` (after it was assigned)."""
    digits = e164(number)
    with transaction.atomic():
        held = (
            PhoneNumber.objects.select_for_update().filter(number=digits, released_at=None).first()
        )
        if held is None:
            raise NumberError(f"+{digits} is not held by anyone")
        if at <= held.assigned_at:
            raise NumberError(f"+{digits} was assigned at {held.assigned_at:%Y-%m-%d %H:%M}")
        held.released_at = at
        held.save(update_fields=["released_at"])
    return held


@dataclass
class InventoryImport:
    """What loading a number inventory did: rows read, numbers newly assigned, numbers
    the same customer held already, and one line per row refused."""

    rows: int = 0
    assigned: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "rows": self.rows,
            "assigned": self.assigned,
            "unchanged": self.unchanged,
            "refused": len(self.errors),
            "errors": self.errors,
        }


class InventoryFileError(ValueError):
    """The inventory file is missing or lacks a required column."""


def import_inventory(path: str | Path, *, at: datetime) -> InventoryImport:
    """Assign the numbers of a CSV inventory (``account,number``, header row): each to
    the customer with that account code, from ``at``. Re-loading the same file assigns
    nothing new; a bad row is refused with its line number and never stops the rest.
    Set-based: the numbers are normalised together and written in one bulk insert."""
    rows = _inventory_rows(Path(path))
    numbers = normalise(pl.Series([number.strip() for _, _, number in rows]), numbering())
    accounts = {account for _, account, _ in rows}
    customers = dict(Customer.objects.filter(account__in=accounts).values_list("account", "pk"))
    held = _holders([n for n in numbers if n])
    result = InventoryImport(rows=len(rows))
    refused: list[tuple[int, str]] = []  # (line, why), reported in line order
    wanted: dict[str, tuple[int, int]] = {}  # number → (customer, line) to assign
    for (line, account, number), digits in zip(rows, numbers, strict=True):
        customer = customers.get(account)
        holder = held.get(digits) or wanted.get(digits, (None,))[0]
        if customer is None:
            refused.append((line, f"no customer has account code {account!r}"))
        elif not digits:
            refused.append((line, f"{number!r} is not a phone number"))
        elif holder == customer:
            result.unchanged += 1
        elif holder is not None:
            refused.append((line, f"+{digits} is held by another customer"))
        else:
            wanted[digits] = (customer, line)
    PhoneNumber.objects.bulk_create(
        [PhoneNumber(customer_id=c, number=n, assigned_at=at) for n, (c, _) in wanted.items()],
        ignore_conflicts=True,  # a number taken meanwhile stays its holder's
        batch_size=1000,
    )
    now_held = _holders(list(wanted))
    for digits, (customer, line) in wanted.items():
        if now_held.get(digits) == customer:
            result.assigned += 1
        else:
            refused.append((line, f"+{digits} is held by another customer"))
    result.errors = [f"line {line}: {why}" for line, why in sorted(refused)]
    return result


def _inventory_rows(path: Path) -> list[tuple[int, str, str]]:
    """``(line, account, number)`` of each row of the inventory file."""
    if not path.is_file():
        raise InventoryFileError(f"number inventory {path} does not exist")
    with open(path, newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in INVENTORY_COLUMNS if c not in (reader.fieldnames or [])]
        if missing:
            raise InventoryFileError(f"{path}: missing column {', '.join(missing)}")
        return [
            (line, (row["account"] or "").strip(), row["number"] or "")
            for line, row in enumerate(reader, start=2)
        ]


def _holders(numbers: list[str]) -> dict[str, int]:
    """Who holds each of ``numbers`` now (numbers nobody holds are absent)."""
    holders: dict[str, int] = {}
    for start in range(0, len(numbers), 500):  # SQLite limits a statement's parameters
        holders.update(
            PhoneNumber.objects.filter(
                number__in=numbers[start : start + 500], released_at=None
            ).values_list("number", "customer_id")
        )
    return holders


def held_numbers(at: datetime) -> dict[int, list[str]]:
    """Per customer, the numbers they hold at ``at``, in order."""
    rows = (
        PhoneNumber.objects.filter(assigned_at__lte=at)
        .filter(Q(released_at__isnull=True) | Q(released_at__gt=at))
        .order_by("customer_id", "number")
        .values_list("customer_id", "number")
    )
    held: dict[int, list[str]] = defaultdict(list)
    for customer_id, number in rows:
        held[customer_id].append(number)
    return dict(held)


def holdings() -> pl.DataFrame:
    """Every holding, past and present: ``number``, ``holder``, ``assigned_at``,
    ``released_at`` (null while held), as the CDR import matches inbound calls."""
    schema = {
        "number": pl.String,
        "holder": pl.Int64,
        "assigned_at": pl.Datetime("us", "UTC"),
        "released_at": pl.Datetime("us", "UTC"),
    }
    rows = PhoneNumber.objects.values_list("number", "customer_id", "assigned_at", "released_at")
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def inbound_seconds(since: datetime, until: datetime) -> dict[int, dict[str, int]]:
    """Per customer, per number, the seconds of inbound calls started in ``[since,
    until)`` (one GROUP BY)."""
    rows = (
        RatedCall.objects.filter(reason=INBOUND, start__gte=since, start__lt=until)
        .values("customer_id", "did")
        .annotate(seconds=Sum("duration"))
        .values_list("customer_id", "did", "seconds")
    )
    seconds: dict[int, dict[str, int]] = defaultdict(dict)
    for customer_id, did, total in rows:
        seconds[customer_id][did] = int(total or 0)
    return dict(seconds)


def numbers_summary(customer: Customer, since: datetime, until: datetime) -> list[dict]:
    """The customer's numbers held at ``until`` with their inbound calls and minutes in
    ``[since, until)``, for the back office and the portal."""
    traffic = dict.fromkeys(held_numbers(until).get(customer.pk, []), (0, 0))
    rows = (
        RatedCall.objects.filter(
            customer=customer, reason=INBOUND, start__gte=since, start__lt=until
        )
        .values("did")
        .annotate(calls=Count("pk"), seconds=Sum("duration"))
        .values_list("did", "calls", "seconds")
    )
    for did, calls, seconds in rows:
        if did in traffic:
            traffic[did] = (calls, int(seconds or 0))
    return [
        {"number": number, "calls": calls, "minutes": seconds // 60}
        for number, (calls, seconds) in traffic.items()
    ]
