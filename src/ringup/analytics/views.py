"""Back-office pages of the revenue analytics: the dashboard, its CSV downloads and the
monthly report (HTML and PDF). The admin (admin.py) routes to them behind its login."""

import csv
from datetime import date
from decimal import Decimal
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from ringup.customers.models import Customer
from ringup.engine.money import CURRENCY_EXPONENTS

from . import charts, report, selectors, sweetspot
from .selectors import FilterError, Filters, Tile
from .services.extract import DEFAULT_CURRENCY
from .templatetags.analytics import amount, count, magnitude, percent, points, signed


def _run_and_filters(request):
    run = selectors.latest_run()
    try:
        filters = selectors.parse_filters(run, request.GET)
        error = None
    except FilterError as exc:
        filters, error = selectors.parse_filters(run, {}), exc
    return run, filters, error


def tile_text(tile: Tile, currency: str) -> dict:
    """A tile's value and change as printed, and whether the change is good news."""
    if tile.kind == "money":
        value, change = amount(tile.value, currency), amount(magnitude(tile.change), currency)
    elif tile.kind == "percent":
        # A rate's change is in percentage points, not a percentage of itself.
        value, change = percent(tile.value), points(tile.change)
    else:
        value, change = count(tile.value), count(magnitude(tile.change))
    tone = "flat"
    if tile.change:
        up = tile.change > 0
        tone = "good" if up == (tile.good_when == "up") else "bad"
    return {
        "label": tile.label,
        "value": value,
        "change": None
        if tile.change is None
        else (change if tile.kind == "percent" else f"{signed(tile.change)}{change}"),
        "tone": tone,
    }


def dashboard_context(run, filters: Filters) -> dict:
    """Everything the dashboard shows, from the stored rows of ``run``."""
    figures = selectors.monthly(run, filters)
    month = selectors.last_month(figures)
    products = selectors.products(run, filters, month)
    top, bottom = selectors.ranked(products)
    return {
        "run": run,
        "filters": filters,
        "figures": figures,
        "month": month,
        "latest": figures[-1] if figures else None,
        "tiles": [tile_text(t, filters.currency) for t in selectors.headline(figures)],
        "charts": charts.svgs(run, filters),
        "top_products": top,
        "bottom_products": bottom,
        "attach": sorted(
            (p for p in products if p.kind != "plan" and p.attach_rate is not None),
            key=lambda p: -p.attach_rate,
        ),
        "funnel": selectors.funnel(run, filters),
        "trials": selectors.trials(run, filters)[-6:],
        "lifts": charts.lift_rows(run, filters),
        "fit": selectors.retention_fit(run, filters),
    }


def dashboard(request, admin_context: dict):
    run, filters, error = _run_and_filters(request)
    context = {
        **admin_context,
        "title": _("Revenue dashboard"),
        "error": error,
        "tiers": selectors.TIERS,
        "plans": selectors.plans(run),
        "currencies": selectors.currencies(run),
        "query": urlencode(filters.as_query()),
    }
    if run is not None:
        context.update(dashboard_context(run, filters))
    return TemplateResponse(request, "admin/analytics/dashboard.html", context)


def dataset_csv(request, name: str):
    """One chart's data as CSV, with the dashboard's filters."""
    if name not in charts.DATASETS:
        raise Http404(name)
    run = selectors.latest_run()
    if run is None:
        raise Http404("no recompute yet")
    try:
        filters = selectors.parse_filters(run, request.GET)
    except FilterError as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc}", content_type="text/plain")
    rows = charts.DATASETS[name](run, filters)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = (
        f'attachment; filename="ringup-{name}-{run.until:%Y-%m-%d}.csv"'
    )
    writer = csv.writer(response)
    columns = list(rows[0]) if rows else []
    writer.writerow(columns)
    writer.writerows([_cell(row[column]) for column in columns] for row in rows)
    return response


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.6f}"
    return str(value)


def _report_month(value: str) -> date:
    try:
        return selectors.parse_month("month", value)
    except FilterError as exc:
        raise Http404(str(exc)) from None


def report_html(request, month: str):
    context = report.context(_report_month(month))
    if context is None:
        raise Http404(_("No figures for that month yet."))
    context["pdf_url"] = reverse("admin:analytics_report_pdf", args=[month])
    context["dashboard_url"] = reverse("admin:analytics_dashboard")
    return HttpResponse(report.html(context, page=True))


def report_pdf(request, month: str):
    context = report.context(_report_month(month))
    if context is None:
        raise Http404(_("No figures for that month yet."))
    response = HttpResponse(report.pdf(context), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="ringup-report-{month}.pdf"'
    return response


DIMENSION_LABELS = {
    "volume": gettext_lazy("Call volume, minutes a month"),
    "lines": gettext_lazy("Lines"),
    "sites": gettext_lazy("Sites"),
    "min_spend": gettext_lazy("Minimum spend a month"),
    "vertical": gettext_lazy("Vertical"),
}


def _sweet_spot_query(request) -> tuple[int, str]:
    raw = request.GET.get("days") or "90"
    if not raw.isdigit() or int(raw) not in sweetspot.WINDOWS:
        raise FilterError("days", _("one of %(windows)s") % {"windows": sweetspot.WINDOWS})
    currency = (request.GET.get("currency") or DEFAULT_CURRENCY).upper()
    if currency not in CURRENCY_EXPONENTS:
        raise FilterError("currency", _("an ISO currency code"))
    return int(raw), currency


def sweet_spot(request, context: dict):
    """Revenue and margin of paying customers by call volume, lines, sites, minimum spend
    and vertical over the chosen window (docs/analytics.md, "Sweet spot")."""
    try:
        days, currency = _sweet_spot_query(request)
    except FilterError as exc:
        return HttpResponseBadRequest(f"{exc.field}: {exc}", content_type="text/plain")
    bands = sweetspot.report(at=timezone.now(), days=days, currency=currency)
    verticals = dict(Customer.Vertical.choices)
    tables = [
        {
            "dimension": name,
            "label": DIMENSION_LABELS[name],
            "bands": [_band_view(band, currency, verticals) for band in rows],
        }
        for name, rows in bands.items()
    ]
    context.update(
        title=_("Sweet spot"),
        days=days,
        windows=sweetspot.WINDOWS,
        currency=currency,
        tables=tables,
        customers=sum(band.customers for band in bands["vertical"]),
        csv_query=urlencode({"days": days, "currency": currency, "format": "csv"}),
    )
    if request.GET.get("format") == "csv":
        return _sweet_spot_csv(tables, days, currency)
    return TemplateResponse(request, "admin/analytics/sweet_spot.html", context)


def _band_view(band, currency: str, verticals: dict) -> dict:
    label = band.label
    if band.dimension == "vertical":
        label = verticals.get(label, label) if label else _("Not known")
    elif band.dimension == "min_spend":
        label = _money_band(band, currency)
    exponent = CURRENCY_EXPONENTS.get(currency, 2)

    def money(minor: int) -> Decimal:
        return Decimal(minor).scaleb(-exponent)

    return {
        "label": label,
        "customers": band.customers,
        "revenue": money(band.revenue),
        "margin": money(band.margin),
        "margin_percent": band.margin_percent,
        "revenue_per_customer": money(band.revenue_per_customer),
        "margin_per_customer": money(band.margin_per_customer),
        "losing": band.margin < 0,
    }


def _money_band(band, currency: str) -> str:
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    if band.high is None:
        return f"{Decimal(band.low).scaleb(-exponent):,.0f}+"
    if band.low == 0 and band.high == 1:
        return str(_("None"))
    return f"{Decimal(band.low).scaleb(-exponent):,.0f}–{Decimal(band.high).scaleb(-exponent):,.0f}"


def _sweet_spot_csv(tables: list[dict], days: int, currency: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="ringup-sweet-spot-{days}d.csv"'
    writer = csv.writer(response)
    columns = ["customers", "revenue", "margin", "margin_percent"]
    columns += ["revenue_per_customer", "margin_per_customer"]
    writer.writerow(["dimension", "band", *columns, "currency"])
    for table in tables:
        for band in table["bands"]:
            values = [_cell(band[column]) for column in columns]
            writer.writerow([table["dimension"], str(band["label"]), *values, currency])
    return response
