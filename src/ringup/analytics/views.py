"""Back-office pages of the revenue analytics: the dashboard, its CSV downloads and the
monthly report (HTML and PDF). The admin (admin.py) routes to them behind its login."""

import csv
from datetime import date
from urllib.parse import urlencode

from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _

from . import charts, report, selectors
from .selectors import FilterError, Filters, Tile
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
