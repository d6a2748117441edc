"""Demo deals: a pipeline with a deal in every stage and one worked through the whole
toolkit — six months of the prospect's call records (generated, seeded), the analysis,
an offer, a TCO, deployment answers and a share link to the proposal."""

import csv
import random
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_CEILING, Decimal
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ringup.sales.deals.models import Deal
from ringup.sales.deals.services import bills, proposals
from ringup.sales.deals.services import deals as deal_services
from ringup.sales.deals.services import tco as tco_services

# What the prospect's current provider charges a minute (started minutes), by the first
# digits of the dialled number, and how often each kind of call happens.
DESTINATIONS = (
    # (weight, prefix, digits after it, rate a minute)
    (44, "7495", 7, Decimal("1.20")),
    (8, "7499", 7, Decimal("1.20")),
    (9, "7812", 7, Decimal("3.50")),
    (4, "7343", 7, Decimal("3.50")),
    (3, "7383", 7, Decimal("3.50")),
    (26, "7916", 7, Decimal("2.90")),
    (4, "7985", 7, Decimal("2.90")),
    (1, "004930", 7, Decimal("18.00")),
    (1, "008610", 8, Decimal("24.00")),
)
# Attempts by hour of the working day (9:00–18:59), busiest late morning and mid-afternoon.
HOUR_WEIGHTS = {9: 6, 10: 11, 11: 14, 12: 10, 13: 6, 14: 10, 15: 13, 16: 11, 17: 8, 18: 4}
UNANSWERED_SHARE = 0.16


@dataclass(frozen=True)
class DealsDemo:
    deals: int
    calls: int

    @property
    def message(self) -> str:
        return f"Deals: {self.deals} in the pipeline; the bill analysed has {self.calls:,} calls."


def generate_cdrs(
    path: str | Path,
    *,
    until: date,
    months: int = 6,
    calls_per_day: int = 180,
    extensions: int = 25,
    seed: int = 7,
) -> int:
    """Write a generic CSV of a Moscow office's outgoing calls on working days of the
    ``months`` before ``until``, with the ``cost`` each call had at their current provider
    (started minutes × the rate of :data:`DESTINATIONS`). Same seed, same file; returns
    the number of calls."""
    rng = random.Random(seed)
    weights = [d[0] for d in DESTINATIONS]
    hours, hour_weights = list(HOUR_WEIGHTS), list(HOUR_WEIGHTS.values())
    first = until - timedelta(days=30 * months)
    count = 0
    with open(path, "w", newline="") as handle:
        out = csv.writer(handle)
        out.writerow(["id", "account", "src", "dst", "start", "duration", "cost"])
        day = first
        while day < until:
            if day.weekday() < 5:
                # Autumn is busier than summer: volume grows ~4 % a month.
                volume = int(
                    calls_per_day * (1 + 0.04 * (day - first).days / 30) * rng.uniform(0.8, 1.2)
                )
                for _ in range(volume):
                    count += 1
                    out.writerow(_call(rng, count, day, hours, hour_weights, weights, extensions))
            day += timedelta(days=1)
    return count


def _call(rng, number, day, hours, hour_weights, weights, extensions) -> list:
    _, prefix, digits, rate = rng.choices(DESTINATIONS, weights)[0]
    dst = prefix + "".join(rng.choice("0123456789") for _ in range(digits))
    start = datetime.combine(
        day, time(rng.choices(hours, hour_weights)[0], rng.randrange(60), rng.randrange(60))
    )
    answered = rng.random() > UNANSWERED_SHARE
    seconds = int(rng.lognormvariate(4.6, 0.9)) + 5 if answered else 0
    seconds = min(seconds, 3600)
    minutes = (Decimal(seconds) / 60).to_integral_value(ROUND_CEILING)
    return [
        f"demo-{number}",
        "prospect",
        f"7495120{rng.randrange(extensions):04d}",
        dst,
        start.isoformat(),
        seconds,
        f"{minutes * rate:.2f}",
    ]


PIPELINE = (
    # company, stage, employees, lines, sites, provider, expected MRR, next step
    (
        "Severny Logistics",
        "lead",
        40,
        8,
        2,
        "Rostelecom",
        22000,
        "Intro call with the office manager",
    ),
    ("Atlas Dental Clinics", "qualified", 18, 6, 3, "MTS", 9800, "Collect their last 6 bills"),
    ("Kvant Engineering", "trial", 60, 16, 1, "Beeline", 31000, "Check trial usage with IT"),
    ("Lotos Travel", "won", 12, 4, 1, "MGTS", 6200, ""),
    ("Orion Print", "lost", 9, 2, 1, "Rostelecom", 3900, ""),
)


def _owner():
    return get_user_model().objects.filter(is_superuser=True).order_by("pk").first()


def _walk(deal: Deal, stage: str, at: datetime, owner) -> None:
    """Move a fresh lead along the pipeline to ``stage``, a few days a step."""
    path = {
        "lead": [],
        "qualified": ["qualified"],
        "proposal": ["qualified", "proposal"],
        "trial": ["qualified", "proposal", "trial"],
        "won": ["qualified", "proposal", "won"],
        "lost": ["qualified", "lost"],
    }[stage]
    for step, to in enumerate(path, start=1):
        when = at + timedelta(days=4 * step)
        if to == "won":
            deal_services.set_offer(deal, plan="office-pbx", employees=deal.employees)
            deal_services.win_deal(deal, at=when, by=owner)
        elif to == "lost":
            deal_services.lose_deal(
                deal, reason="timing", at=when, by=owner, note="Budget frozen until Q2"
            )
        else:
            deal_services.move_deal(deal, to, at=when, by=owner)
        deal.refresh_from_db()


@transaction.atomic
def load_deals(*, at: datetime | None = None, seed: int = 7) -> DealsDemo:
    """The demo pipeline at ``at`` (default: now); nothing is added when deals exist."""
    at = at or timezone.now()
    if Deal.objects.exists():
        return DealsDemo(Deal.objects.count(), 0)
    owner = _owner()
    started = at - timedelta(days=30)
    for company, stage, employees, lines, sites, provider, mrr, step in PIPELINE:
        deal = deal_services.create_deal(
            deal_services.NewDeal(
                company=company,
                title=f"{company}: cloud PBX",
                employees=employees,
                lines=lines,
                sites=sites,
                current_provider=provider,
                email=f"office@{company.split()[0].lower()}.example",
                expected_mrr=Decimal(mrr),
                next_step=step,
                next_step_on=timezone.localdate(at) + timedelta(days=3) if step else None,
                contacts=(deal_services.NewContact(name="Office manager", role="Office manager"),),
            ),
            at=started,
            by=owner,
        )
        _walk(deal, stage, started, owner)
    calls = _worked_deal(at, owner, seed)
    return DealsDemo(Deal.objects.count(), calls)


def _worked_deal(at: datetime, owner, seed: int) -> int:
    """Mercury Insurance: at the proposal stage with everything filled in."""
    deal = deal_services.create_deal(
        deal_services.NewDeal(
            company="Mercury Insurance",
            title="Mercury Insurance: move 25 desks to cloud PBX",
            employees=25,
            lines=10,
            sites=2,
            current_provider="Rostelecom (PRI, office PBX)",
            email="it@mercury-insurance.example",
            phone="+74951200000",
            language="ru",
            expected_mrr=Decimal(14500),
            next_step="Present the proposal to the CFO",
            next_step_on=timezone.localdate(at) + timedelta(days=2),
            contacts=(
                deal_services.NewContact(
                    "Irina Volkova", "CFO", "volkova@mercury-insurance.example", "+74951200001"
                ),
                deal_services.NewContact(
                    "Pavel Orlov", "IT manager", "orlov@mercury-insurance.example"
                ),
            ),
        ),
        at=at - timedelta(days=20),
        by=owner,
    )
    deal_services.move_deal(deal, "qualified", at=at - timedelta(days=15), by=owner)
    deal_services.move_deal(deal, "proposal", at=at - timedelta(days=3), by=owner)
    deal_services.set_offer(
        deal,
        plan="office-pbx",
        employees=25,
        numbers=2,
        options=("call-recording-pro", "crm-integration"),
    )
    source = Path(settings.DATA_DIR) / "deals" / "demo-mercury-cdrs.csv"
    source.parent.mkdir(parents=True, exist_ok=True)
    calls = generate_cdrs(source, until=timezone.localdate(at).replace(day=1), seed=seed)
    with source.open("rb") as handle:
        bills.upload_cdrs(
            deal,
            handle,
            file_name="mercury-cdr-export.csv",
            format="generic",
            country="RU",
            home_area="7495",
            tariff=bills.CurrentTariff(
                line_rental=Decimal(9000), fixed_fees=Decimal(1500), cost_column="cost"
            ),
            at=at - timedelta(days=3),
            by=owner,
        )
    source.unlink()
    # What the background worker does after an upload, done here so the demo opens ready.
    bills.analyse_pending(at=at - timedelta(days=3))
    tco_services.save_tco_inputs(deal, tco_services.tco_form_initial(deal))
    tco_services.save_deployment(
        deal,
        {
            "control": "medium",
            "budget": "opex",
            "growth": "high",
            "remote_staff": "medium",
            "sites": 2,
            "it_capacity": "low",
            "integrations": "cloud_apps",
            "recurring_revenue": "medium",
        },
    )
    proposals.share(deal, days=30, at=at - timedelta(days=1), by=owner)
    return calls
