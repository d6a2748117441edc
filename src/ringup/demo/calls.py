"""The demo operator's calls: a month of CDRs from its switch, imported by the real
importer (``ringup import-cdrs``'s service) so the last invoices bill usage.

Customers hold the numbers of their live subscriptions (the demo PBX's, +7 495 …) and the
file carries the calls those numbers received from the trunk, so the import tells them
apart as inbound. Two customers with many numbers receive next to nothing on them: the
risk board's "many numbers with little inbound traffic"."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from django.conf import settings
from django.db.models import CharField, F, Q, Value
from django.db.models.functions import Cast, Concat

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.engine.rating import Numbering
from ringup.provisioning.adapters import demo_numbers
from ringup.usage.models import PhoneNumber
from ringup.usage.services import FileImport, import_cdr_file

SOURCE = "demo-pbx"
# (dialled prefix as written by the switch, digits to add, share of calls)
DESTINATIONS = [
    ("8495", 7, 0.34),  # Moscow local
    ("8499", 7, 0.04),
    ("89", 9, 0.38),  # Russia mobile
    ("8812", 7, 0.08),  # St Petersburg
    ("8383", 7, 0.07),  # Novosibirsk: long distance
    ("00770", 7, 0.04),  # Kazakhstan
    ("00375", 9, 0.02),  # Belarus
    ("0049", 9, 0.01),  # Germany
    ("0086", 10, 0.01),  # China
    ("", 3, 0.01),  # an extension dialled by mistake: a bad number
]
UNANSWERED = 0.15
UNKNOWN_ACCOUNT = 0.01  # calls of an account code no customer has
INBOUND_PER_NUMBER = 25  # calls a number receives in the month, on average
# Customers whose numbers sit idle, and how many numbers each holds (at least).
NUMBER_FARMS, FARM_NUMBERS = 2, 12
TRUNK = "trunk-in"  # the account code the switch writes on calls from the PSTN


@dataclass(frozen=True)
class Calls:
    path: str
    result: FileImport


def import_demo_calls(*, until: date, seed: int) -> Calls:
    """Give every customer an account code, write the last month's CDRs before ``until``
    (generic CSV under ``DATA_DIR/demo-cdrs``) and import them; deterministic for a seed."""
    Customer.objects.filter(account__isnull=True).update(
        account=Concat(Value("acc-"), Cast(F("pk"), CharField()))
    )
    start = (until.replace(day=1) - timedelta(days=1)).replace(day=1)
    days = (until - start).days
    zone = ZoneInfo(settings.TIME_ZONE)
    begins = datetime.combine(start, time(), zone)
    ends = datetime.combine(until, time(), zone)
    current = Subscription.objects.filter(started_at__lt=ends).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=begins)
    )
    active = list(
        Customer.objects.filter(pk__in=current.values("customer_id"))
        .order_by("pk")
        .values_list("account", "employees")
    )
    accounts, employees = zip(*active, strict=True) if active else ((), ())
    rng = np.random.default_rng(seed)
    live = current.filter(Q(ended_at__isnull=True) | Q(ended_at__gt=ends))
    held = assign_demo_numbers(live, at=begins)
    per_customer = rng.poisson(np.minimum(np.asarray(employees, dtype=float), 40) * 1.5 + 5)
    count = int(per_customer.sum())
    account = np.repeat(np.asarray(accounts, dtype=object), per_customer)
    account[rng.random(count) < UNKNOWN_ACCOUNT] = "acc-unknown"
    shares = np.array([share for *_, share in DESTINATIONS])
    kind = rng.choice(len(DESTINATIONS), size=count, p=shares / shares.sum())
    dst = np.empty(count, dtype=object)
    for index, (prefix, digits, _) in enumerate(DESTINATIONS):
        chosen = kind == index
        tails = rng.integers(10 ** (digits - 1), 10**digits, size=int(chosen.sum()))
        dst[chosen] = [prefix + str(tail) for tail in tails]
    # Working hours mostly: a day, then 08:00–20:00 local.
    offsets = rng.integers(0, days, count) * 86_400 + rng.integers(8 * 3600, 20 * 3600, count)
    starts = (np.datetime64(start) + offsets.astype("timedelta64[s]")).astype("datetime64[ms]")
    seconds = np.rint(rng.lognormal(4.3, 1.0, count)).astype(np.int64)
    seconds[rng.random(count) < UNANSWERED] = 0
    frame = pl.DataFrame(
        {
            "id": [f"{SOURCE}-{start:%Y%m}-{n:07d}" for n in range(count)],
            "account": account.tolist(),
            "src": ["74951110000"] * count,
            "dst": dst.tolist(),
            "start": pl.Series(starts).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "duration": seconds,
        }
    )
    inbound = _inbound_calls(held, start, days, np.random.default_rng(seed + 1))
    frame = pl.concat([frame, inbound]).sort("start")
    folder = settings.DATA_DIR / "demo-cdrs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SOURCE}-{start:%Y-%m}.csv"
    frame.write_csv(path)
    result = import_cdr_file(path, source=SOURCE, numbering=Numbering(country="RU"))
    return Calls(str(path), result)


def assign_demo_numbers(current, *, at: datetime) -> dict[int, list[str]]:
    """Give each customer of the ``current`` (live) subscriptions their subscription's numbers
    (the demo PBX's), held from ``at``; the ``NUMBER_FARMS`` customers with the most
    numbers get at least ``FARM_NUMBERS``. Returns the numbers per customer, farms first."""
    counts: dict[int, int] = {}
    for customer_id, numbers in current.order_by("pk").values_list("customer_id", "numbers"):
        counts[customer_id] = counts.get(customer_id, 0) + numbers
    farms = sorted(counts, key=lambda c: (-counts[c], c))[:NUMBER_FARMS]
    for customer_id in farms:
        if counts[customer_id] < FARM_NUMBERS:
            live = current.filter(customer_id=customer_id).order_by("-started_at").first()
            live.numbers += FARM_NUMBERS - counts[customer_id]
            live.save(update_fields=["numbers"])
            counts[customer_id] = FARM_NUMBERS
    held = {
        customer_id: [n.lstrip("+") for n in demo_numbers(customer_id, count)]
        for customer_id, count in sorted(counts.items(), key=lambda item: item[0] not in farms)
    }
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(customer_id=customer_id, number=number, assigned_at=at)
            for customer_id, numbers in held.items()
            for number in numbers
        ],
        ignore_conflicts=True,  # made-up numbers repeat past 100,000 customers
        batch_size=2_000,
    )
    return held


def _inbound_calls(
    held: dict[int, list[str]], start: date, days: int, rng: np.random.Generator
) -> pl.DataFrame:
    """The month's calls to the held numbers from the trunk; the first ``NUMBER_FARMS``
    customers' numbers (the farms) get one call each on their first number only."""
    farms = list(held)[:NUMBER_FARMS]
    numbers = [n for c, ns in held.items() if c not in farms for n in ns]
    per_number = rng.poisson(INBOUND_PER_NUMBER, len(numbers))
    dst = np.repeat(np.asarray(numbers, dtype=object), per_number).tolist()
    dst += [held[c][0] for c in farms]
    count = len(dst)
    offsets = rng.integers(0, days, count) * 86_400 + rng.integers(8 * 3600, 20 * 3600, count)
    starts = (np.datetime64(start) + offsets.astype("timedelta64[s]")).astype("datetime64[ms]")
    seconds = np.rint(rng.lognormal(4.6, 0.9, count)).astype(np.int64)
    seconds[rng.random(count) < UNANSWERED] = 0
    callers = rng.integers(10**9, 10**10, count)
    return pl.DataFrame(
        {
            "id": [f"{SOURCE}-{start:%Y%m}-in-{n:07d}" for n in range(count)],
            "account": [TRUNK] * count,
            "src": [f"79{caller:09d}"[:11] for caller in callers],
            "dst": dst,
            "start": pl.Series(starts, dtype=pl.Datetime("ms")).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "duration": seconds,
        }
    )
