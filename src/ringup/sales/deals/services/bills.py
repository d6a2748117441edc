"""The prospect's bill: their call records or an invoice summary, analysed by the engine
(``ringup.engine.bills``) and compared, month by month, with the same traffic on our
retail deck plus the proposed plan's monthly fee.

Comparison (also what ``ringup analyze-bill`` prints as ``monthly_saving``):

* **current** (what they pay now) — from the call records' cost column, if the file has
  one, or from the prospect's per-minute rates by category, plus the monthly line rental
  and fixed fees they pay; from an invoice summary, its call charges, line rental and
  fixed fees. Unknown when none of these is given.
* **ours** — the same calls re-rated on our retail deck (``RINGUP_RETAIL_DECK``) plus the
  proposed plan's monthly fee as the quote engine prices it (plan, employees, numbers,
  options); without a proposed plan, the re-rated calls alone.
* **saving** — current − ours for each month present in both; the average over those
  months is the monthly saving. No current cost: no saving.

The analysis is stored as JSON on the ``BillAnalysis`` row; it is computed again when the
proposed offer changes (:func:`refresh_bills`), since "ours" depends on it.

Call records are analysed by a background worker: a year of a 300-line company's calls
takes longer than a web request may. The upload checks the file's header at once (a
missing column is a form error), stores the row as ``analysing`` and sends the task after
commit; :func:`analyse_next` claims a row by compare-and-set on its ``claim`` (a claim older
than ``RINGUP_BILL_ANALYSIS_LEASE`` seconds is taken over), analyses outside any
transaction and stores the result only while the claim is still its own. Beat's sweep
runs the same task, so an upload whose task was lost is still analysed.
"""

import hashlib
import logging
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy

from ringup.catalog.services import QuoteRequest, price
from ringup.engine import bills
from ringup.engine.pricing import SelectionError
from ringup.engine.rating import CdrFileError, NumberingError
from ringup.events.services import on_commit_once
from ringup.usage.services import configured_decks

from ..models import BillAnalysis, Deal
from .deals import DealRefused, offer_request

log = logging.getLogger(__name__)

FORMATS = ("generic", "asterisk", "freeswitch")
# How the pages name them: the PBX platforms' own names stay as they are.
FORMAT_LABELS = {
    "generic": gettext_lazy("Generic CSV"),
    "asterisk": "Asterisk",
    "freeswitch": "FreeSWITCH",
}
# A number in each destination type, to read our per-minute rate for an invoice summary
# (which has minutes by type, not numbers) off the retail deck.
SAMPLE_NUMBERS = {
    bills.Category.LOCAL: "74951234567",
    bills.Category.LONG_DISTANCE: "73431234567",
    bills.Category.MOBILE: "79161234567",
    bills.Category.INTERNATIONAL: "4930123456",
    bills.Category.TOLL_FREE: "78001234567",
}


def bills_dir() -> Path:
    """Where uploaded call records are kept (``DATA_DIR/deals``)."""
    path = Path(settings.DATA_DIR) / "deals"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass(frozen=True)
class CurrentTariff:
    """What the prospect pays now besides the calls themselves, and how their calls are
    priced when the file has no cost column (per-minute rates by category)."""

    line_rental: Decimal = Decimal(0)
    fixed_fees: Decimal = Decimal(0)
    rates: dict | None = None
    cost_column: str | None = None

    def as_json(self) -> dict:
        return {
            "line_rental": self.line_rental,
            "fixed_fees": self.fixed_fees,
            "rates": {str(k): v for k, v in (self.rates or {}).items()} or None,
            "cost_column": self.cost_column,
        }

    @classmethod
    def from_json(cls, data: dict) -> "CurrentTariff":
        rates = data.get("rates")
        return cls(
            line_rental=Decimal(str(data.get("line_rental") or 0)),
            fixed_fees=Decimal(str(data.get("fixed_fees") or 0)),
            rates={bills.Category(k): Decimal(str(v)) for k, v in rates.items()} if rates else None,
            cost_column=data.get("cost_column") or None,
        )


@dataclass(frozen=True)
class OfferPrice:
    """Our side's fixed part: the proposed plan's monthly fee (quote engine) or none."""

    plan: str | None
    price: bills.OurPrice | None
    one_time: Decimal = Decimal(0)


def offer_price(deal: Deal | None = None, *, plan: str | None = None, employees=None) -> OfferPrice:
    """The monthly fee of the deal's proposed offer (or of ``plan`` × ``employees``), as the
    quote engine prices it; no plan → no fee."""
    if deal is not None and deal.plan_id is not None:
        request = offer_request(deal)
    elif plan:
        request = QuoteRequest(plan=plan, employees=employees)
    else:
        return OfferPrice(None, None)
    _, quote = price(request)
    return OfferPrice(
        request.plan,
        bills.OurPrice(monthly_fee=quote.monthly_total, currency=quote.currency),
        quote.one_time_total,
    )


def analyse_cdrs(
    path: str | Path,
    *,
    format: str,
    country: str,
    home_area: str | None = None,
    tariff: CurrentTariff = CurrentTariff(),
    offer: OfferPrice = OfferPrice(None, None),
) -> dict:
    """Analyse a call-record file: the engine's profile, the re-rating on our retail deck
    and the monthly comparison. Bad input raises :class:`DealRefused` naming the field."""
    if format not in FORMATS:
        raise DealRefused({"format": f"one of {', '.join(FORMATS)}"})
    try:
        records = bills.read_call_records(
            path,
            format,
            home_country=country,
            home_area=home_area or None,
            cost_column=tariff.cost_column,
        )
        profile = bills.profile(records)
        rerating = bills.rerate(records, configured_decks().retail)
    except (CdrFileError, NumberingError) as error:
        raise DealRefused({"file": str(error).splitlines()[0]}) from error
    except bills.BillAnalysisError as error:
        raise DealRefused(error.errors) from error
    except ValueError as error:  # a malformed file the readers did not name
        raise DealRefused({"file": str(error).splitlines()[0]}) from error
    current = None
    if tariff.cost_column:
        current = bills.current_costs_from_file(
            profile, line_rental=tariff.line_rental, fixed_fees=tariff.fixed_fees
        )
    elif tariff.rates:
        current = bills.current_costs_from_rates(
            profile, tariff.rates, line_rental=tariff.line_rental, fixed_fees=tariff.fixed_fees
        )
    ours = bills.our_costs(rerating, offer.price or bills.OurPrice(monthly_fee=Decimal(0)))
    return _analysis(_profile_json(profile), _traffic(profile), rerating, current, ours, offer)


def _profile_json(profile) -> dict:
    """The engine's JSON of the profile, with minutes by month and category for the chart."""
    return {
        **profile.to_json(),
        "by_month_category": {
            month: {str(category): usage.to_json() for category, usage in row.items()}
            for month, row in profile.by_month_category.items()
        },
    }


def _traffic(profile) -> dict:
    """What the risk flags read (``engine.risk.TrafficFacts``)."""
    return {
        "calls": profile.calls,
        "answered": profile.answered,
        "seconds": profile.seconds,
        "short_calls": profile.short_calls,
        "peak_concurrent_calls": profile.peak_concurrent_calls,
        "active_hours": profile.active_hours,
    }


def _month_costs(costs) -> dict | None:
    if costs is None:
        return None
    return {
        month: {"usage": cost.usage, "fixed": cost.fixed, "total": cost.total}
        for month, cost in costs.items()
    }


def _analysis(profile: dict, traffic: dict | None, rerating, current, ours, offer) -> dict:
    saving = bills.saving(current, ours) if current is not None else None
    return {
        "profile": profile,
        "traffic": traffic,
        "rerating": None
        if rerating is None
        else {
            "cost": rerating.cost,
            "unrated": dict(rerating.unrated),
            "by_month": {
                month: {"calls": m.calls, "rated": m.rated, "cost": m.cost}
                for month, m in rerating.by_month.items()
            },
        },
        "plan": offer.plan,
        "plan_monthly_fee": offer.price.monthly_fee if offer.price else None,
        "current": _month_costs(current),
        "ours": _month_costs(ours),
        "saving": saving.to_json() if saving is not None else None,
    }


def summary_months(rows: list[dict]) -> list:
    """The summary form's rows as the engine's ``MonthlySummary``."""
    return [
        bills.MonthlySummary(
            month=row["month"],
            minutes={bills.Category(k): Decimal(str(v)) for k, v in row["minutes"].items()},
            usage_charges=Decimal(str(row["usage_charges"])),
            line_rental=Decimal(str(row.get("line_rental") or 0)),
            fixed_fees=Decimal(str(row.get("fixed_fees") or 0)),
        )
        for row in rows
    ]


def analyse_summary(rows: list[dict], *, offer: OfferPrice) -> dict:
    """The comparison for an invoice-only prospect: their invoices month by month against
    the same minutes at our retail rates per category plus the plan's fee."""
    months = summary_months(rows)
    try:
        current = bills.current_costs_from_summary(months)
        rates = bills.category_rates(configured_decks().retail, SAMPLE_NUMBERS)
        ours = bills.our_costs_from_summary(
            months, rates, offer.price or bills.OurPrice(monthly_fee=Decimal(0))
        )
    except bills.BillAnalysisError as error:
        raise DealRefused(error.errors) from error
    profile = _summary_profile(months)
    analysis = _analysis(profile, None, None, current, ours, offer)
    analysis["our_rates"] = {str(k): v for k, v in rates.items()}
    return analysis


def _summary_profile(months) -> dict:
    """Minutes by category and month from the summary, in the profile's JSON shape (there
    are no calls, so no ACD, ASR or concurrency)."""
    by_month, by_category = {}, {}
    for month in months:
        total = sum(month.minutes.values(), Decimal(0))
        by_month[month.month] = {"minutes": total, "cost": month.usage_charges}
        for category, minutes in month.minutes.items():
            row = by_category.setdefault(str(category), {"minutes": Decimal(0), "cost": None})
            row["minutes"] += minutes
    busiest = sorted(by_month, key=lambda m: (-by_month[m]["minutes"], m))
    return {
        "minutes": sum((m["minutes"] for m in by_month.values()), Decimal(0)),
        "by_month": dict(sorted(by_month.items())),
        "by_category": by_category,
        "peak_month": busiest[0] if busiest else None,
        "lowest_month": busiest[-1] if busiest else None,
    }


def _store_file(upload) -> tuple[str, str]:
    """Copy the uploaded file under ``DATA_DIR/deals/`` (a random name: the prospect's
    own name may be anything); returns (stored name, SHA-256)."""
    name = f"{secrets.token_hex(16)}.csv"
    digest = hashlib.sha256()
    with (bills_dir() / name).open("wb") as out:
        for chunk in _chunks(upload):
            digest.update(chunk)
            out.write(chunk)
    return name, digest.hexdigest()


def _chunks(upload):
    """A Django upload's chunks, or an open file's, 1 MiB at a time."""
    if hasattr(upload, "chunks"):
        yield from upload.chunks()
    else:
        yield from iter(lambda: upload.read(1 << 20), b"")


def upload_cdrs(
    deal: Deal,
    upload,
    *,
    file_name: str,
    format: str,
    country: str,
    at: datetime,
    home_area: str | None = None,
    tariff: CurrentTariff = CurrentTariff(),
    by=None,
) -> BillAnalysis:
    """Keep the prospect's call records and queue their analysis (module docstring).

    Raises :class:`DealRefused` naming the field when the file's header, the format or the
    country cannot be used; the file is then not kept."""
    if format not in FORMATS:
        raise DealRefused({"format": f"one of {', '.join(FORMATS)}"})
    stored, sha256 = _store_file(upload)
    path = bills_dir() / stored
    try:
        _check_header(path, format, country, tariff.cost_column)
    except DealRefused:
        path.unlink(missing_ok=True)
        raise
    bill = BillAnalysis.objects.create(
        deal=deal,
        kind=BillAnalysis.Kind.CDRS,
        cdr_format=format,
        country=country,
        file_name=file_name[:255],
        stored_as=stored,
        sha256=sha256,
        profile={"inputs": _jsonable({"home_area": home_area, "tariff": tariff.as_json()})},
        status=BillAnalysis.Status.ANALYSING,
        uploaded_at=at,
        uploaded_by=by,
    )
    on_commit_once(send_analysis_task)
    return bill


def _check_header(path: Path, format: str, country: str, cost_column: str | None) -> None:
    try:
        bills.check_call_records(path, format, home_country=country, cost_column=cost_column)
    except CdrFileError as error:
        raise DealRefused({"file": str(error).splitlines()[0]}) from error
    except bills.BillAnalysisError as error:
        raise DealRefused(error.errors) from error


def send_analysis_task() -> None:
    from ..tasks import analyse_bills_task  # the task module imports this one

    try:
        analyse_bills_task.delay()
    except Exception:
        log.warning("could not send the bill analysis task; the sweep will run it", exc_info=True)


def lease() -> timedelta:
    """How long an analysis may take before another worker may take the bill over."""
    return timedelta(seconds=settings.RINGUP_BILL_ANALYSIS_LEASE)


def analyse_next(*, at: datetime) -> BillAnalysis | None:
    """Claim the longest-waiting bill to analyse, analyse it and store the outcome
    (``ready`` with its profile, or ``failed`` with the reason); ``None`` when none waits."""
    token = uuid.uuid4().hex
    # Not claimed, or claimed by a worker that has outlived its lease (it died).
    claimable = Q(claimed_at__isnull=True) | Q(claimed_at__lt=at - lease())
    waiting = BillAnalysis.objects.filter(claimable, status=BillAnalysis.Status.ANALYSING)
    for bill in waiting.order_by("uploaded_at", "pk")[:20]:
        # Compare-and-set: of two workers that read the same claim, one updates the row.
        if BillAnalysis.objects.filter(claimable, pk=bill.pk, claim=bill.claim).update(
            claim=token, claimed_at=at
        ):
            break
    else:
        return None
    outcome = _outcome(bill)
    if outcome["status"] == BillAnalysis.Status.READY:
        outcome["analysed_at"] = at
    # A bill sent back for analysis meanwhile (a new offer) has lost this claim: the newer
    # request's analysis is the one kept.
    BillAnalysis.objects.filter(pk=bill.pk, claim=token).update(
        **outcome, claim="", claimed_at=None
    )
    bill.refresh_from_db()
    return bill


def _outcome(bill: BillAnalysis) -> dict:
    try:
        return {
            "status": BillAnalysis.Status.READY,
            "error": "",
            "profile": _jsonable(_analyse_stored(bill)),
        }
    except (DealRefused, SelectionError) as refused:
        reason = str(refused)  # "field: message; …"
    except Exception as error:  # an analysis that crashes must still end, with its reason
        log.exception("bill analysis %s failed", bill.pk)
        reason = (str(error).splitlines() or [type(error).__name__])[0]
    return {"status": BillAnalysis.Status.FAILED, "error": reason[:500]}


def analyse_pending(*, at: datetime) -> int:
    """Analyse every waiting bill (the task's and the sweep's work); how many were done."""
    done = 0
    while analyse_next(at=at) is not None:
        done += 1
    return done


def _analyse_stored(bill: BillAnalysis) -> dict:
    inputs = bill.profile.get("inputs") or {}
    analysis = analyse_cdrs(
        bills_dir() / bill.stored_as,
        format=bill.cdr_format,
        country=bill.country,
        home_area=inputs.get("home_area"),
        tariff=CurrentTariff.from_json(inputs.get("tariff") or {}),
        offer=offer_price(bill.deal),
    )
    analysis["inputs"] = inputs
    return analysis


def enter_summary(deal: Deal, rows: list[dict], *, at: datetime, by=None) -> BillAnalysis:
    """Store an invoice summary (per month: minutes by category, call charges, line
    rental, fixed fees) and its comparison on the deal."""
    if not rows:
        raise DealRefused({"months": "enter at least one month"})
    analysis = analyse_summary(rows, offer=offer_price(deal))
    return BillAnalysis.objects.create(
        deal=deal,
        kind=BillAnalysis.Kind.SUMMARY,
        months=_jsonable(rows),
        profile=_jsonable(analysis),
        analysed_at=at,
        uploaded_at=at,
        uploaded_by=by,
    )


def reanalyse(bill: BillAnalysis, *, at: datetime) -> BillAnalysis:
    """Compare the bill again with the deal's current offer: an invoice summary at once,
    call records in the background (their file is read again; the last figures stay
    shown meanwhile)."""
    if bill.kind == BillAnalysis.Kind.SUMMARY:
        bill.profile = _jsonable(analyse_summary(bill.months, offer=offer_price(bill.deal)))
        bill.analysed_at = at
        bill.save(update_fields=["profile", "analysed_at"])
        return bill
    bill.status, bill.error, bill.claim, bill.claimed_at = (
        BillAnalysis.Status.ANALYSING,
        "",
        "",
        None,
    )
    bill.save(update_fields=["status", "error", "claim", "claimed_at"])
    on_commit_once(send_analysis_task)
    return bill


@transaction.atomic
def refresh_bills(deal: Deal, *, at: datetime) -> None:
    """The deal's latest bill, compared again after its offer changed."""
    latest = deal.bills.order_by("-uploaded_at", "-id").first()
    if latest is not None:
        reanalyse(latest, at=at)


def _jsonable(value):
    """Decimals as strings and category keys as plain strings, as the JSON column keeps them."""
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Decimal):
        return str(value)
    return value
