"""The monthly management report: the month's headline figures against the month before,
MRR movements, ARPU by tier, products, churn and the funnel, per currency, from the stored
aggregates. One template gives the HTML page, the PDF (WeasyPrint) and the e-mail's
attachment; it is e-mailed on the 1st, once per month."""

from dataclasses import replace
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from ringup.notifications.services import render

from . import charts, selectors
from .models import MonthlyFigure, MonthlyReport, RecomputeRun
from .selectors import Filters
from .services.recompute import recompute

#: Months of history the report's chart shows.
CHART_MONTHS = 12


def next_month(month: date) -> date:
    return (month.replace(day=1) + timedelta(days=32)).replace(day=1)


def previous_month(month: date) -> date:
    return (month.replace(day=1) - timedelta(days=1)).replace(day=1)


def covering_run(month: date) -> RecomputeRun | None:
    """The newest finished run whose history covers the whole of ``month``."""
    return (
        RecomputeRun.objects.filter(status=RecomputeRun.Status.DONE, until__gte=next_month(month))
        .order_by("-until")
        .first()
    )


def _rows(figures: list[MonthlyFigure], month: date) -> tuple:
    by_month = {f.month: f for f in figures}
    return by_month.get(month), by_month.get(previous_month(month))


def _section(run: RecomputeRun, currency: str, month: date) -> dict | None:
    filters = Filters(
        currency=currency, since=month - timedelta(days=31 * CHART_MONTHS), until=month
    )
    figures = selectors.monthly(run, filters)
    now, before = _rows(figures, month)
    if now is None:
        return None
    tiers = {}
    for row in selectors.arpu_by_tier(run, replace(filters, since=previous_month(month))):
        tiers.setdefault(row.tier, {})[row.month] = row
    products = selectors.products(run, filters, month)
    top, bottom = selectors.ranked(products)
    return {
        "currency": currency,
        "now": now,
        "before": before,
        "lines": _headline(now, before),
        "movements_chart": charts.svg("movements", run, filters),
        "tiers": [
            (tier, rows.get(month), rows.get(previous_month(month)))
            for tier, rows in sorted(tiers.items())
        ],
        "top_products": top,
        "bottom_products": bottom,
        "funnel": selectors.funnel(run, filters),
    }


def _headline(now: MonthlyFigure, before: MonthlyFigure | None) -> list[tuple]:
    """(label, kind, value now, value before, change) per headline figure."""
    names = [
        (_("Customers"), "count", "active"),
        (_("Paying customers"), "count", "paying"),
        (_("MRR"), "money", "mrr"),
        (_("Revenue"), "money", "revenue"),
        (_("ARPU"), "money", "arpu"),
        (_("ARPPU"), "money", "arppu"),
        (_("Customer churn"), "percent", "customer_churn"),
        (_("Revenue churn"), "percent", "revenue_churn"),
        (_("Net revenue retention"), "percent", "nrr"),
    ]
    lines = []
    for label, kind, name in names:
        value = getattr(now, name)
        earlier = getattr(before, name) if before else None
        change = value - earlier if value is not None and earlier is not None else None
        lines.append((label, kind, value, earlier, change))
    return lines


def context(month: date) -> dict | None:
    """The report of ``month`` (its first day); ``None`` without a run covering it."""
    run = covering_run(month)
    if run is None:
        return None
    sections = [s for s in (_section(run, c, month) for c in selectors.currencies(run)) if s]
    if not sections:
        return None
    return {
        "month": month,
        "run": run,
        "sections": sections,
        "operator_name": settings.OPERATOR_NAME,
        "brand_colour": settings.RINGUP_BRAND_COLOUR,
    }


def html(report: dict, *, page: bool = False) -> str:
    return render_to_string("analytics/report.html", {**report, "page": page})


def pdf(report: dict) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is made

    return HTML(string=html(report)).write_pdf()


def recipients() -> list[str]:
    """``RINGUP_REPORT_RECIPIENTS``, else ``RINGUP_ADMINS``, else the active staff's
    addresses."""
    if settings.RINGUP_REPORT_RECIPIENTS:
        return list(settings.RINGUP_REPORT_RECIPIENTS)
    if settings.ADMINS:
        return [address for _, address in settings.ADMINS]
    staff = get_user_model().objects.filter(is_staff=True, is_active=True).exclude(email="")
    return sorted(set(staff.values_list("email", flat=True)))


def send_monthly_report(*, at: datetime) -> MonthlyReport | None:
    """E-mail the report of the month before ``at``'s (local) month, once: the month's
    row is claimed first, so a second call (another worker, a retry after success) sends
    nothing and returns ``None``. A month with no run covering it is recomputed first."""
    month = previous_month(timezone.localdate(at))
    to = recipients()
    if not to:
        return None
    try:
        with transaction.atomic():
            claim = MonthlyReport.objects.create(month=month, claimed_at=at, recipients=to)
    except IntegrityError:
        return None
    try:
        if covering_run(month) is None:
            recompute(at=at, until=next_month(month))
        report = context(month)
        if report is None:
            raise LookupError(f"no figures for {month:%Y-%m}")
        _mail(report, to)
    except Exception:
        # Not sent: the claim goes, so the next attempt sends it.
        claim.delete()
        raise
    claim.run = report["run"]
    claim.sent_at = at
    claim.save(update_fields=["run", "sent_at"])
    return claim


def _mail(report: dict, to: list[str]) -> None:
    language = settings.LANGUAGE_CODE.split("-")[0]
    month = report["month"]
    with translation.override(language):
        document = pdf(report)
    subject, text, body = render(
        "analytics/email/monthly_report", {"report": report, **report}, language=language
    )
    message = EmailMultiAlternatives(
        subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL, to=to
    )
    message.attach_alternative(body, "text/html")
    message.attach(f"ringup-report-{month:%Y-%m}.pdf", document, "application/pdf")
    message.send()
