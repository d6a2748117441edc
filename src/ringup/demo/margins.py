"""The demo operator's margin monitor and risk flags.

The carrier deck configured for the CDR import becomes carrier "Demo Transit"'s version
in force from six months back; a newer version, effective a week before the end of the
history, raises Russian mobile, Moscow and Belarus termination, which the last month's
calls feel: the margin impact page shows destinations, plans and customers below the
target. Two customers on the contact-centre plan get a day of auto-dialer traffic (short
calls, many unanswered, one after another), imported by the real CDR importer, before the
risk flags are computed. Running it again adds nothing.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from django.conf import settings

from ringup.customers.models import Customer
from ringup.engine.rating import Numbering
from ringup.events.services import dispatch
from ringup.sales.margins.models import CarrierDeckVersion, RiskFlag
from ringup.sales.margins.risk import compute_flags
from ringup.sales.margins.services import WINDOWS, compute_impact, import_version
from ringup.usage.services import configured_decks, import_cdr_file

CARRIER = "Demo Transit"
# prefix → new carrier rate per minute in the newer version
RAISES = {"79": "1.45", "7495": "0.55", "7499": "0.55", "375": "11.80"}
DIALERS = 2
DIALER_CALLS = 600


@dataclass(frozen=True)
class MarginsDemo:
    versions: int
    below_target: int
    dialers: int
    flags: int
    idle_numbers: int = 0

    @property
    def message(self) -> str:
        destinations = "destination" if self.below_target == 1 else "destinations"
        return (
            f"Margins: {self.versions} carrier deck versions, {self.below_target} "
            f"{destinations} below target after the newest (/admin/margins/); risk flags: "
            f"{self.flags} ({self.dialers} demo customers given auto-dialer traffic, "
            f"{self.idle_numbers} holding numbers with little inbound traffic)."
        )


def load_margins(*, until: date, at: datetime, seed: int) -> MarginsDemo:
    """Give two customers dialer traffic, seed the two versions, store the newer one's
    impact on the last 30 and 90 days and compute every customer's risk flags at ``at``."""
    deck = Path(settings.RINGUP_CARRIER_DECK)
    content = deck.read_bytes()
    first, newer = until - timedelta(days=183), until - timedelta(days=7)
    retail = configured_decks().retail
    dialers = _dialer_traffic(until, seed)  # before the impact: it re-costs these calls too
    if not CarrierDeckVersion.objects.filter(carrier=CARRIER).exists():
        import_version(content, carrier=CARRIER, effective_from=first, at=at, file_name=deck.name)
        version = import_version(
            _raised(content), carrier=CARRIER, effective_from=newer, at=at, file_name="raised.csv"
        )
        for days in WINDOWS:
            compute_impact(version, days=days, at=at, retail=retail)
        dispatch(at=at, consumers=["margins-pricing-owner"])
    version = CarrierDeckVersion.objects.filter(carrier=CARRIER).order_by("-effective_from")[0]
    impact = version.impacts.filter(window_days=WINDOWS[0]).first()
    computed = compute_flags(at=at)
    return MarginsDemo(
        versions=CarrierDeckVersion.objects.filter(carrier=CARRIER).count(),
        below_target=impact.below_target if impact else 0,
        dialers=dialers,
        flags=computed.flags,
        idle_numbers=RiskFlag.objects.filter(code="idle_dids").count(),
    )


def _raised(content: bytes) -> bytes:
    frame = pl.read_csv(content, infer_schema=False)
    rate = pl.col("prefix").replace_strict(RAISES, default=pl.col("rate"))
    return frame.with_columns(rate=rate).write_csv().encode()


def _dialer_traffic(until: date, seed: int) -> int:
    """A working day of predictive-dialer calls for two contact-centre customers, three
    days before ``until``: 600 calls each, 45 % unanswered, the rest 2–12 s, on 3
    channels. Imported once (the CDR import claims a file by its content)."""
    customers = list(
        Customer.objects.filter(account__isnull=False, subscriptions__plan__code="contact-centre")
        .distinct()
        .order_by("pk")
        .values_list("account", flat=True)[:DIALERS]
    )
    if not customers:
        return 0
    rng = np.random.default_rng(seed + 7)
    zone = ZoneInfo(settings.TIME_ZONE)
    day = datetime.combine(until - timedelta(days=3), time(9), zone).replace(tzinfo=None)
    count = DIALER_CALLS * len(customers)
    account = np.repeat(np.asarray(customers, dtype=object), DIALER_CALLS)
    # Three channels per customer, a call every ~20 s on each: the working day fills up.
    slot = np.tile(np.arange(DIALER_CALLS), len(customers))
    offsets = (slot // 3) * 20 + rng.integers(0, 5, count)
    seconds = rng.integers(2, 13, count)
    seconds[rng.random(count) < 0.45] = 0
    starts = np.datetime64(day) + offsets.astype("timedelta64[s]")
    frame = pl.DataFrame(
        {
            "id": [f"dialer-{until:%Y%m%d}-{n:06d}" for n in range(count)],
            "account": account.tolist(),
            "src": ["74951110000"] * count,
            "dst": [f"89{n:09d}" for n in rng.integers(10**8, 10**9, count)],
            "start": pl.Series(starts.astype("datetime64[ms]")).dt.strftime("%Y-%m-%dT%H:%M:%S"),
            "duration": seconds,
        }
    ).sort("start")
    folder = settings.DATA_DIR / "demo-cdrs"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"dialer-{until:%Y-%m-%d}.csv"
    frame.write_csv(path)
    import_cdr_file(path, source="demo-dialer", numbering=Numbering(country="RU"))
    return len(customers)
