"""Charts of the deal page and the proposal: Vega-Lite specs rendered to SVG on the
server (vl-convert), so the PDF and the page show the same picture without JavaScript."""

import base64

from django.utils.translation import get_language
from django.utils.translation import gettext as _

FONT = "DejaVu Sans, Arial, sans-serif"
# One colour per destination type, the same on every chart.
CATEGORY_COLOURS = {
    "local": "#2f6fb0",
    "long_distance": "#7fb3e0",
    "mobile": "#f0a030",
    "international": "#c0504d",
    "toll_free": "#6aa84f",
    "other": "#a0a0a0",
}
# d3-format locales of the pages' languages: axis figures read 12 000 in Russian.
NUMBER_LOCALES = {"en": "en-US", "ru": "ru-RU"}


def _svg(spec: dict) -> str:
    import vl_convert as vlc  # loads a JavaScript engine: only pages with charts pay for it

    spec = {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "config": {
            "font": FONT,
            "view": {"stroke": None},
            "axis": {"labelFontSize": 11, "titleFontSize": 11, "gridColor": "#e6e9ef"},
            "legend": {"labelFontSize": 11, "titleFontSize": 11, "orient": "bottom"},
        },
        **spec,
    }
    locale = NUMBER_LOCALES.get((get_language() or "en")[:2], "en-US")
    return vlc.vegalite_to_svg(spec, format_locale=locale)


def data_uri(svg: str) -> str:
    """The SVG as an ``<img src>`` (WeasyPrint and browsers both take it)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


def minutes_by_month(rows: list[dict], labels: dict[str, str]) -> str:
    """Stacked bars: minutes per month by destination type. ``rows``: month, category,
    minutes."""
    values = [
        {
            "month": r["month"],
            "type": labels.get(r["category"], r["category"]),
            "minutes": float(r["minutes"]),
        }
        for r in rows
    ]
    order = [labels.get(c, c) for c in CATEGORY_COLOURS]
    return _svg(
        {
            "width": 620,
            "height": 220,
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "x": {
                    "field": "month",
                    "type": "ordinal",
                    "title": None,
                    "axis": {"labelAngle": 0},
                },
                "y": {"field": "minutes", "type": "quantitative", "title": _("minutes")},
                "color": {
                    "field": "type",
                    "type": "nominal",
                    "title": None,
                    "scale": {"domain": order, "range": list(CATEGORY_COLOURS.values())},
                },
                "order": {"field": "type"},
            },
        }
    )


def monthly_costs(rows: list[dict], current_label: str, ours_label: str) -> str:
    """Grouped bars: what they pay now against us, per month."""
    values = []
    for row in rows:
        if row.get("current") is not None:
            values.append(
                {"month": row["month"], "side": current_label, "amount": float(row["current"])}
            )
        values.append({"month": row["month"], "side": ours_label, "amount": float(row["ours"])})
    return _svg(
        {
            "width": 620,
            "height": 200,
            "data": {"values": values},
            "mark": {"type": "bar"},
            "encoding": {
                "x": {
                    "field": "month",
                    "type": "ordinal",
                    "title": None,
                    "axis": {"labelAngle": 0},
                },
                "xOffset": {"field": "side"},
                "y": {"field": "amount", "type": "quantitative", "title": None},
                "color": {
                    "field": "side",
                    "type": "nominal",
                    "title": None,
                    "scale": {
                        "domain": [current_label, ours_label],
                        "range": ["#b0b7c3", "#2f6fb0"],
                    },
                },
            },
        }
    )


def cumulative_tco(years: list[dict], on_premise_label: str, hosted_label: str) -> str:
    """Lines: cumulative cost by year, on premise against hosted."""
    values = []
    for year in years:
        values.append(
            {
                "year": year["year"],
                "side": on_premise_label,
                "amount": float(year["cumulative_on_premise"]),
            }
        )
        values.append(
            {"year": year["year"], "side": hosted_label, "amount": float(year["cumulative_hosted"])}
        )
    return _svg(
        {
            "width": 620,
            "height": 220,
            "data": {"values": values},
            "mark": {"type": "line", "point": True, "strokeWidth": 3},
            "encoding": {
                "x": {
                    "field": "year",
                    "type": "ordinal",
                    "title": _("year"),
                    "axis": {"labelAngle": 0},
                },
                "y": {"field": "amount", "type": "quantitative", "title": None},
                "color": {
                    "field": "side",
                    "type": "nominal",
                    "title": None,
                    "scale": {
                        "domain": [on_premise_label, hosted_label],
                        "range": ["#c0504d", "#2f6fb0"],
                    },
                },
            },
        }
    )
