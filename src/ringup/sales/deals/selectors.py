"""Reads for the pipeline, the deal page and the proposal: the stored bill analysis laid
out as tables and charts, the TCO and deployment advice, risk flags, the recommended
plan and the value-added services that fit the prospect."""

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ringup.catalog.advice import reasons as advice_reasons
from ringup.catalog.services import advise, price
from ringup.engine import advisor, risk
from ringup.engine.pricing import SelectionError

from . import charts
from .models import BillAnalysis, Deal, Stage
from .services.bills import FORMAT_LABELS
from .services.deals import TRANSITIONS, offer_request
from .services.tco import deal_deployment, deal_tco
from .services.trials import trial_token

CATEGORY_LABELS = {
    "local": gettext_lazy("Local"),
    "long_distance": gettext_lazy("Long distance"),
    "mobile": gettext_lazy("Mobile"),
    "international": gettext_lazy("International"),
    "toll_free": gettext_lazy("Toll-free"),
    "other": gettext_lazy("Other"),
}
# The engine's ``risk.Severity`` values, as the margin monitor's flags are labelled.
SEVERITY_LABELS = {
    "info": gettext_lazy("Info"),
    "warning": gettext_lazy("Warning"),
    "critical": gettext_lazy("Critical"),
}
DEFAULT_CURRENCY = "RUB"
PIPELINE = (Stage.LEAD, Stage.QUALIFIED, Stage.PROPOSAL, Stage.TRIAL, Stage.WON, Stage.LOST)
# Calls to other cities and countries above this share of minutes make local presence
# numbers worth offering: the called party sees (and calls back) a local number.
REMOTE_SHARE_FOR_LOCAL_NUMBERS = Decimal("0.15")


def pipeline(*, owner_id: int | None = None, stage: str | None = None, search: str = ""):
    """Deals by stage, in pipeline order: ``[(stage, label, deals, expected MRR total)]``."""
    deals = Deal.objects.select_related("customer", "owner", "plan")
    if owner_id:
        deals = deals.filter(owner_id=owner_id)
    if stage:
        deals = deals.filter(stage=stage)
    if search:
        deals = deals.filter(Q(title__icontains=search) | Q(customer__name__icontains=search))
    by_stage: dict[str, list[Deal]] = {s: [] for s in PIPELINE}
    for deal in deals.order_by("next_step_on", "-stage_changed_at", "-id"):
        by_stage[deal.stage].append(deal)
    return [
        (
            value,
            Stage(value).label,
            by_stage[value],
            sum((d.expected_mrr or Decimal(0) for d in by_stage[value]), Decimal(0)),
        )
        for value in PIPELINE
        if not stage or value == stage
    ]


def latest_bill(deal: Deal) -> BillAnalysis | None:
    """The newest bill with an analysis (one being analysed again keeps its figures)."""
    return deal.bills.filter(analysed_at__isnull=False).order_by("-uploaded_at", "-id").first()


def bill_in_progress(deal: Deal) -> BillAnalysis | None:
    """The newest bill when it is still being analysed or its analysis failed."""
    newest = deal.bills.order_by("-uploaded_at", "-id").first()
    return newest if newest is not None and newest.status != BillAnalysis.Status.READY else None


def _d(value) -> Decimal | None:
    return None if value is None else Decimal(str(value))


@dataclass(frozen=True)
class BillView:
    """A stored bill analysis laid out for the templates."""

    bill: BillAnalysis
    profile: dict
    categories: list[dict]
    months: list[dict]
    comparison: list[dict]
    saving: dict | None
    minutes_chart: str | None
    costs_chart: str | None
    remote_share: Decimal

    @property
    def has_calls(self) -> bool:
        return self.bill.kind == BillAnalysis.Kind.CDRS

    @property
    def format_label(self) -> str:
        return str(FORMAT_LABELS.get(self.bill.cdr_format, self.bill.cdr_format))

    @property
    def first_month(self) -> str:
        return self.months[0]["month"] if self.months else ""

    @property
    def last_month(self) -> str:
        return self.months[-1]["month"] if self.months else ""


def bill_view(bill: BillAnalysis | None, *, charts_wanted: bool = True) -> BillView | None:
    """Tables and charts of the stored analysis: minutes and cost by destination type and
    by month, and the monthly comparison with our offer."""
    if bill is None:
        return None
    analysis = bill.profile
    profile = analysis.get("profile") or {}
    total_minutes = _d(profile.get("minutes")) or Decimal(0)
    categories = []
    for code, label in CATEGORY_LABELS.items():
        row = (profile.get("by_category") or {}).get(code)
        if not row or not _d(row.get("minutes")):
            continue
        minutes = _d(row["minutes"])
        categories.append(
            {
                "code": code,
                "label": label,
                "calls": row.get("calls"),
                "minutes": minutes,
                "cost": _d(row.get("cost")),
                "share": (minutes / total_minutes * 100).quantize(Decimal("0.1"))
                if total_minutes
                else None,
            }
        )
    remote = sum(
        (c["minutes"] for c in categories if c["code"] in ("long_distance", "international")),
        Decimal(0),
    )
    months = [
        {
            "month": month,
            "minutes": _d(row.get("minutes")),
            "calls": row.get("calls"),
            "cost": _d(row.get("cost")),
        }
        for month, row in (profile.get("by_month") or {}).items()
    ]
    comparison = _comparison(analysis)
    return BillView(
        bill=bill,
        profile=profile,
        categories=categories,
        months=months,
        comparison=comparison,
        saving=analysis.get("saving"),
        minutes_chart=charts.data_uri(_minutes_chart(analysis, bill))
        if charts_wanted and months
        else None,
        costs_chart=charts.data_uri(
            charts.monthly_costs(comparison, _("They pay now"), _("With us"))
        )
        if charts_wanted and comparison
        else None,
        remote_share=(remote / total_minutes) if total_minutes else Decimal(0),
    )


def _minutes_chart(analysis: dict, bill: BillAnalysis) -> str:
    labels = {code: str(label) for code, label in CATEGORY_LABELS.items()}
    profile = analysis.get("profile") or {}
    rows = []
    by_month_category = profile.get("by_month_category")
    if by_month_category:
        for month, cats in by_month_category.items():
            rows += [
                {"month": month, "category": c, "minutes": v["minutes"]} for c, v in cats.items()
            ]
    else:  # an invoice summary: the minutes as entered
        for row in bill.months:
            rows += [
                {"month": row["month"], "category": c, "minutes": v}
                for c, v in row["minutes"].items()
            ]
    return charts.minutes_by_month(rows, labels)


def _comparison(analysis: dict) -> list[dict]:
    """Month by month: what they pay now (usage, fixed), our re-rated usage and fee, the
    saving."""
    ours = analysis.get("ours") or {}
    current = analysis.get("current") or {}
    rows = []
    for month, our in ours.items():
        now = current.get(month)
        rows.append(
            {
                "month": month,
                "current_usage": _d(now["usage"]) if now else None,
                "current_fixed": _d(now["fixed"]) if now else None,
                "current": _d(now["total"]) if now else None,
                "ours_usage": _d(our["usage"]),
                "ours_fixed": _d(our["fixed"]),
                "ours": _d(our["total"]),
                "saving": _d(now["total"]) - _d(our["total"]) if now else None,
            }
        )
    return rows


# A figure the engine writes into a text: "4800.00", "12", "15".
FIGURE = re.compile(r"\d+(?:\.\d+)?")


@dataclass(frozen=True)
class Explained:
    """An engine finding (risk flag, deployment reason) in the active language."""

    code: str
    severity: str
    points: int
    text: str

    @property
    def severity_label(self) -> str:
        return str(SEVERITY_LABELS.get(self.severity, self.severity))


def explained(message: str, params: dict) -> str:
    """The engine's English template translated (this app's catalog has its msgids), then
    filled with its figures as the active language writes them (3,5 in Russian)."""
    return _(message).format(**{key: _localised(value) for key, value in params.items()})


def _localised(value):
    text = str(value)
    if isinstance(value, bool) or not FIGURE.fullmatch(text):
        return value
    return number_format(
        Decimal(text), decimal_pos=len(text.partition(".")[2]), force_grouping=True
    )


def risk_flags(deal: Deal, bill: BillAnalysis | None = None) -> list[Explained]:
    """The engine's risk flags over the deal's latest call records and what is known of
    the account (numbers proposed), each explained with its figures."""
    return [
        Explained(str(f.code), str(f.severity), 0, explained(f.message, f.params))
        for f in _flags(deal, bill)
    ]


def _flags(deal: Deal, bill: BillAnalysis | None) -> tuple:
    bill = bill if bill is not None else latest_bill(deal)
    traffic = (bill.profile.get("traffic") if bill is not None else None) or None
    facts = risk.TrafficFacts(**traffic) if traffic else None
    account = risk.AccountFacts(dids=deal.numbers) if deal.numbers else None
    if facts is None and account is None:
        return ()
    return risk.risk_flags(facts, account)


def recommendation(deal: Deal, view: BillView | None):
    """The advisor's plan for the prospect (employees, calls a day from the bill) and its
    quote, or ``None`` when the catalog has nothing to recommend."""
    calls = (view.profile.get("calls") or 0) if view else 0
    months = len(view.months) if view else 0
    per_day = int(calls / (months * advisor.WORKING_DAYS)) if months else 0
    try:
        return advise(
            advisor.Answers(
                employees=deal.employees or deal.customer.employees, calls_per_day=per_day
            )
        )
    except (advisor.AdviceError, SelectionError):
        return None


def offer_quote(deal: Deal):
    """The proposed offer priced by the quote engine: (plan, quote) or ``None``."""
    if deal.plan_id is None:
        return None
    try:
        return price(offer_request(deal))
    except SelectionError:
        return None


# The quote engine's words around the catalog's names ("Office PBX: monthly fee"), in the
# active language; the longer phrase first, as it holds the shorter.
QUOTE_WORDS = (
    (": monthly fee", gettext_lazy(": monthly fee")),
    (": connection", gettext_lazy(": connection")),
    (": setup", gettext_lazy(": setup")),
    ("Employees (users)", gettext_lazy("Employees (users)")),
    ("Annual prepayment discount", gettext_lazy("Annual prepayment discount")),
    ("Discount", gettext_lazy("Discount")),
)


def quote_lines(quote) -> list[dict]:
    """The quote's lines with their descriptions in the active language."""
    rows = []
    for line in quote.lines:
        description = line.description
        for english, translated in QUOTE_WORDS:
            if english in description:
                description = description.replace(english, str(translated))
                break
        rows.append({"description": description, "quantity": line.quantity, "amount": line.amount})
    return rows


def value_added(deal: Deal, view: BillView | None) -> list[tuple[str, str]]:
    """Services worth offering this prospect, each with why."""
    services = []
    if deal.sites > 1:
        services.append(
            (
                _("Keep every branch's number"),
                _(
                    "With %(sites)s sites, a branch that moves or closes keeps its local number, "
                    "routed to head office: no customer dials a dead number."
                )
                % {"sites": deal.sites},
            )
        )
    if view is not None and view.remote_share >= REMOTE_SHARE_FOR_LOCAL_NUMBERS:
        services.append(
            (
                _("Local presence numbers"),
                _(
                    "%(share)s%% of your minutes go to other cities and countries: a local "
                    "number there is answered and called back more often, at local rates."
                )
                % {"share": (view.remote_share * 100).quantize(Decimal(1))},
            )
        )
    services.append(
        (
            _("Cloud failover"),
            _(
                "If the office loses power or internet, calls ring on mobiles and the app: "
                "the PBX runs in our data centres, not in your server room."
            ),
        )
    )
    return services


def signup_url(deal: Deal, *, at: datetime) -> str:
    """The site's sign-up carrying this deal's offer and its signed trial token (valid
    from ``at``): "Try free" opens a trial of it for this prospect (services/trials)."""
    query: dict = {}
    if deal.plan_id is not None:
        query["plan"] = deal.plan.code
        if deal.employees:
            query["employees"] = deal.employees
        extra = (deal.numbers or 0) - deal.plan.included_numbers
        if extra > 0:
            query["extra_numbers"] = extra
        if deal.options:
            query["options"] = ",".join(deal.options)
    query["deal"] = trial_token(deal, at=at)
    return f"{reverse('site:signup')}?{urlencode(query)}"


# The units in the TCO engine's formulas ("12 × 4800.00 a month"), in the active language.
FORMULA_WORDS = (
    (" a month", gettext_lazy(" a month")),
    (" a year", gettext_lazy(" a year")),
    (" h ", gettext_lazy(" h ")),
)


def _line(line) -> dict:
    """A TCO input line with its label and formula in the active language (its words, and
    its figures as the language writes them: 4 800,00 in Russian)."""
    formula = FIGURE.sub(lambda figure: _localised(figure.group()), line.formula)
    for english, translated in FORMULA_WORDS:
        formula = formula.replace(english, str(translated))
    return {"key": line.key, "label": _(line.label), "formula": formula, "amount": line.amount}


def tco_view(deal: Deal, *, charts_wanted: bool = True) -> dict | None:
    """The TCO result as JSON-like rows plus its chart, or ``None`` before an offer."""
    result = deal_tco(deal)
    if result is None:
        return None
    years = [
        {
            "year": y.year,
            "on_premise": y.on_premise,
            "hosted": y.hosted,
            "saving": y.saving,
            "cumulative_on_premise": y.cumulative_on_premise,
            "cumulative_hosted": y.cumulative_hosted,
            "cumulative_saving": y.cumulative_saving,
            "on_premise_lines": [_line(line) for line in y.on_premise_lines],
            "hosted_lines": [_line(line) for line in y.hosted_lines],
        }
        for y in result.years
    ]
    chart = (
        charts.data_uri(charts.cumulative_tco(years, _("On-premise PBX"), _("Hosted PBX")))
        if charts_wanted
        else None
    )
    return {"result": result, "years": years, "chart": chart}


def deployment_view(deal: Deal) -> dict | None:
    """The deployment advice with its reasons in the active language."""
    advice = deal_deployment(deal)
    if advice is None:
        return None
    return {
        "score": advice.score,
        "recommendation": str(advice.recommendation),
        "reasons": [
            Explained(r.question, "", r.points, explained(r.message, r.params))
            for r in advice.reasons
        ],
    }


def deal_context(deal: Deal, *, charts_wanted: bool = True, at: datetime | None = None) -> dict:
    """Everything the deal page and the proposal show, as of ``at`` (now by default)."""
    view = bill_view(latest_bill(deal), charts_wanted=charts_wanted)
    offer = offer_quote(deal)
    advice = recommendation(deal, view)
    return {
        "currency": offer[1].currency if offer else DEFAULT_CURRENCY,
        "stage_choices": Stage.choices,
        "deal": deal,
        "customer": deal.customer,
        "bill": view,
        "bill_in_progress": bill_in_progress(deal),
        "offer": offer,
        "offer_lines": quote_lines(offer[1]) if offer else [],
        "advice": advice,
        "advice_reasons": advice_reasons(advice[0]) if advice else [],
        "tco": tco_view(deal, charts_wanted=charts_wanted),
        "deployment": deployment_view(deal),
        "flags": risk_flags(deal, view.bill if view else None),
        "services": value_added(deal, view),
        "signup_url": signup_url(deal, at=at or timezone.now()),
        "next_stages": TRANSITIONS[deal.stage],
    }
