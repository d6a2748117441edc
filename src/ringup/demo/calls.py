"""The demo operator's calls: a month of CDRs from its switch, imported by the real
importer (``ringup import-cdrs``'s service) so the last invoices bill usage."""

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
    ).sort("start")
    folder = settings.DATA_DIR / "demo-cdrs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{SOURCE}-{start:%Y-%m}.csv"
    frame.write_csv(path)
    result = import_cdr_file(path, source=SOURCE, numbering=Numbering(country="RU"))
    return Calls(str(path), result)
