"""The dashboard's data sets and their charts.

Each data set is a list of rows (dicts) read from the stored aggregates: the same rows
are the chart's data, the CSV download and the report's tables. Charts are Vega-Lite
specifications rendered to SVG on the server (vl-convert): no script, no CDN, the same
picture in the page, the PDF and the e-mail. A rendered chart is cached per run and
filters, since a run's rows never change once it is done.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from functools import partial

import vl_convert as vlc
from django.core.cache import cache
from django.utils.translation import get_language
from django.utils.translation import gettext as _

from . import selectors
from .models import RecomputeRun
from .selectors import Filters

Rows = list[dict]
NAVY, GRID, INK = "#1f3a5f", "#e6e9ef", "#3b4251"
MOVEMENT_COLOURS = {
    "new": "#2e7d32",
    "expansion": "#7cb342",
    "reactivation": "#00897b",
    "contraction": "#f57c00",
    "churn": "#c62828",
}
TIER_COLOURS = {"micro": "#5b8def", "smb": "#1f3a5f", "enterprise": "#e0a526"}
FULL, HALF = 1000, 460  # chart widths: a whole row of the page, half of one
# Cached SVG outlives a run only by accident: keys carry the run's finish time.
CACHE_SECONDS = 24 * 3600
# Charts rendered at once on a first view (the machine's cores do the rest).
RENDER_THREADS = 4
# d3-format locales of the languages the back office speaks (digit grouping, decimal mark).
NUMBER_LOCALES = {"en": "en-US", "ru": "ru-RU", "kk": "ru-RU"}


def _month(row_month) -> str:
    return f"{row_month:%Y-%m}"


# Data sets --------------------------------------------------------------------------


def monthly_rows(run: RecomputeRun, filters: Filters) -> Rows:
    """Every monthly figure of the slice: the summary table and its CSV."""
    return [
        {
            "month": _month(f.month),
            "currency": f.currency,
            "active": f.active,
            "paying": f.paying,
            "trialing": f.trialing,
            "revenue": f.revenue,
            "arpu": f.arpu,
            "arppu": f.arppu,
            "margin": f.margin,
            "mrr": f.mrr,
            "new_customers": f.new_customers,
            "churned_customers": f.churned_customers,
            "customer_churn": f.customer_churn,
            "revenue_churn": f.revenue_churn,
            "grr": f.grr,
            "nrr": f.nrr,
            "nrr_12": f.nrr_12,
        }
        for f in selectors.monthly(run, filters)
    ]


def movement_rows(run: RecomputeRun, filters: Filters) -> Rows:
    """MRR movements per month: what was gained and lost, and MRR at the month end."""
    return [
        {
            "month": _month(f.month),
            "currency": f.currency,
            "opening_mrr": f.opening_mrr,
            "new": f.new_mrr,
            "expansion": f.expansion_mrr,
            "reactivation": f.reactivation_mrr,
            "contraction": f.contraction_mrr,
            "churn": f.churned_mrr,
            "closing_mrr": f.mrr,
            "net_new_mrr": f.new_mrr
            + f.expansion_mrr
            + f.reactivation_mrr
            - f.contraction_mrr
            - f.churned_mrr,
        }
        for f in selectors.monthly(run, filters)
    ]


def arpu_rows(run: RecomputeRun, filters: Filters) -> Rows:
    return [
        {
            "month": _month(f.month),
            "tier": f.tier,
            "currency": f.currency,
            "active": f.active,
            "arpu": f.arpu,
            "arppu": f.arppu,
        }
        for f in selectors.arpu_by_tier(run, filters)
    ]


def cohort_rows(run: RecomputeRun, filters: Filters) -> Rows:
    return [
        {
            "cohort": _month(c.cohort),
            "age": c.age,
            "currency": c.currency,
            "customers": c.customers,
            "paying": c.paying,
            "logo_retention": c.logo_retention,
            "mrr": c.mrr,
            "revenue_retention": c.revenue_retention,
        }
        for c in selectors.cohorts(run, filters)
    ]


def retention_rows(run: RecomputeRun, filters: Filters) -> Rows:
    fit = selectors.retention_fit(run, filters)
    if fit is None:
        return []
    observed = fit.observed
    return [
        {
            "age": age,
            "observed": observed[age] if age < len(observed) else None,
            "projected": projected,
            "alpha": fit.alpha,
            "beta": fit.beta,
        }
        for age, projected in enumerate(fit.projected)
    ]


def product_rows(run: RecomputeRun, filters: Filters) -> Rows:
    month = selectors.last_month(selectors.monthly(run, filters))
    return [
        {
            "month": _month(p.month),
            "product": p.product,
            "kind": p.kind,
            "holders": p.holders,
            "new_holders": p.new_holders,
            "rank": p.rank,
            "attach_rate": p.attach_rate,
        }
        for p in selectors.products(run, filters, month)
    ]


def funnel_rows(run: RecomputeRun, filters: Filters) -> Rows:
    return [
        {
            "position": s.position,
            "stage": s.stage,
            "reached": s.reached,
            "reached_next": s.reached_next,
            "conversion_to_next": s.conversion_to_next,
            "median_days_to_next": s.median_days_to_next,
        }
        for s in selectors.funnel(run, filters)
    ]


def trial_rows(run: RecomputeRun, filters: Filters) -> Rows:
    return [
        {
            "month": _month(t.month),
            "trials": t.trials,
            "converted": t.converted,
            "conversion": t.conversion,
        }
        for t in selectors.trials(run, filters)
    ]


def lift_rows(run: RecomputeRun, filters: Filters) -> Rows:
    rows = []
    for lift in selectors.lifts(run):
        report = lift.report
        conversion = report.get("conversion_lift") or {}
        revenue = report.get("revenue_lift") or {}
        rows.append(
            {
                "kind": lift.kind,
                "campaign": lift.name,
                "treated": report["treated"]["customers"],
                "treated_converted": report["treated"]["converted"],
                "held_out": report["held_out"]["customers"],
                "held_out_converted": report["held_out"]["converted"],
                "conversion_lift": conversion.get("estimate"),
                "conversion_low": conversion.get("low"),
                "conversion_high": conversion.get("high"),
                "revenue_lift": revenue.get("estimate"),
                "revenue_low": revenue.get("low"),
                "revenue_high": revenue.get("high"),
            }
        )
    return rows


DATASETS: dict[str, Callable[[RecomputeRun, Filters], Rows]] = {
    "monthly": monthly_rows,
    "movements": movement_rows,
    "arpu": arpu_rows,
    "cohorts": cohort_rows,
    "retention": retention_rows,
    "products": product_rows,
    "funnel": funnel_rows,
    "trials": trial_rows,
    "lift": lift_rows,
}


# Charts -----------------------------------------------------------------------------


def _number(value):
    if isinstance(value, Decimal):
        return float(value)
    return value


def _values(rows: Rows) -> list[dict]:
    return [{key: _number(value) for key, value in row.items()} for row in rows]


# Months along the bottom of the time-series charts.
MONTH_AXIS = {"field": "month", "type": "ordinal", "title": None, "axis": {"labelAngle": -45}}


def _base(height: int = 260, width: int = FULL) -> dict:
    return {
        "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
        "width": width,
        "height": height,
        "background": "white",
        "config": {
            "font": "Helvetica, Arial, sans-serif",
            "view": {"stroke": None},
            "axis": {
                "labelColor": INK,
                "titleColor": INK,
                "gridColor": GRID,
                "domainColor": "#c7ccd6",
                "tickColor": "#c7ccd6",
                "labelFontSize": 11,
                "titleFontSize": 11,
                "titleFontWeight": "normal",
            },
            "legend": {"labelColor": INK, "titleColor": INK, "orient": "top", "title": None},
        },
    }


def movements_spec(rows: Rows, currency: str) -> dict:
    """Stacked bars: gains up, losses down; MRR at month end as a line on its own axis."""
    signs = {"new": 1, "expansion": 1, "reactivation": 1, "contraction": -1, "churn": -1}
    labels = {
        "new": _("New"),
        "expansion": _("Expansion"),
        "reactivation": _("Reactivation"),
        "contraction": _("Contraction"),
        "churn": _("Churn"),
    }
    bars = [
        {
            "month": row["month"],
            "movement": labels[name],
            "order": i,
            "amount": sign * float(row[name]),
        }
        for row in rows
        for i, (name, sign) in enumerate(signs.items())
    ]
    line = [{"month": row["month"], "mrr": float(row["closing_mrr"])} for row in rows]
    x = MONTH_AXIS
    spec = _base()
    spec["layer"] = [
        {
            "data": {"values": bars},
            "mark": {"type": "bar", "width": {"band": 0.7}},
            "encoding": {
                "x": x,
                "y": {
                    "field": "amount",
                    "type": "quantitative",
                    "stack": "zero",
                    "title": _("MRR movement, %(currency)s") % {"currency": currency},
                    "axis": {"format": "~s"},
                },
                "color": {
                    "field": "movement",
                    "type": "nominal",
                    "sort": list(labels.values()),
                    "scale": {
                        "domain": list(labels.values()),
                        "range": list(MOVEMENT_COLOURS.values()),
                    },
                },
                "order": {"field": "order"},
            },
        },
        {
            "data": {"values": line},
            "mark": {"type": "line", "color": NAVY, "strokeWidth": 2.5, "point": {"color": NAVY}},
            "encoding": {
                "x": x,
                "y": {
                    "field": "mrr",
                    "type": "quantitative",
                    "title": _("MRR at month end, %(currency)s") % {"currency": currency},
                    "axis": {"format": "~s", "grid": False, "titleColor": NAVY},
                },
            },
        },
    ]
    spec["resolve"] = {"scale": {"y": "independent"}}
    return spec


def arpu_spec(rows: Rows, currency: str) -> dict:
    labels = {tier: str(label) for tier, label in selectors.TIER_LABELS.items()}
    spec = _base(220, HALF)
    spec["data"] = {
        "values": [
            {**r, "tier": labels.get(r["tier"], r["tier"])}
            for r in _values(rows)
            if r["arpu"] is not None
        ]
    }
    spec["mark"] = {"type": "line", "point": True, "strokeWidth": 2}
    spec["encoding"] = {
        "x": MONTH_AXIS,
        "y": {
            "field": "arpu",
            "type": "quantitative",
            "title": _("ARPU, %(currency)s") % {"currency": currency},
            "axis": {"format": ",.0f"},
        },
        "color": {
            "field": "tier",
            "type": "nominal",
            "scale": {
                "domain": [labels[tier] for tier in TIER_COLOURS],
                "range": list(TIER_COLOURS.values()),
            },
        },
    }
    return spec


def cohort_spec(rows: Rows) -> dict:
    """Logo retention by signup month (rows) and age in months (columns)."""
    values = [r for r in _values(rows) if r["logo_retention"] is not None]
    cohorts = sorted({r["cohort"] for r in values})
    spec = _base(max(180, 16 * len(cohorts)))
    spec["data"] = {"values": values}
    x = {
        "field": "age",
        "type": "ordinal",
        "title": _("Months since sign-up"),
        "axis": {"labelAngle": 0},
    }
    y = {"field": "cohort", "type": "ordinal", "title": _("Sign-up month")}
    spec["encoding"] = {"x": x, "y": y}
    spec["layer"] = [
        {
            "mark": {"type": "rect", "stroke": "white", "strokeWidth": 1},
            "encoding": {
                "color": {
                    "field": "logo_retention",
                    "type": "quantitative",
                    "title": _("Paying"),
                    "scale": {"scheme": "blues", "domain": [0, 1]},
                    "legend": {"format": ".0%", "orient": "right"},
                },
            },
        },
        {
            "mark": {"type": "text", "fontSize": 8},
            "encoding": {
                "text": {"field": "logo_retention", "type": "quantitative", "format": ".0%"},
                "color": {
                    "condition": {"test": "datum.logo_retention > 0.55", "value": "white"},
                    "value": INK,
                },
            },
        },
    ]
    return spec


def retention_spec(rows: Rows) -> dict:
    values = []
    for row in rows:
        values.append({"age": row["age"], "share": row["projected"], "series": _("sBG projection")})
        if row["observed"] is not None:
            values.append({"age": row["age"], "share": row["observed"], "series": _("Observed")})
    spec = _base(220, HALF)
    spec["data"] = {"values": values}
    spec["mark"] = {"type": "line", "point": True}
    spec["encoding"] = {
        "x": {"field": "age", "type": "quantitative", "title": _("Months since the first payment")},
        "y": {
            "field": "share",
            "type": "quantitative",
            "title": _("Still paying"),
            "axis": {"format": ".0%"},
            "scale": {"domain": [0, 1]},
        },
        "color": {
            "field": "series",
            "type": "nominal",
            "scale": {"range": [NAVY, "#e0a526"]},
        },
        "strokeDash": {"field": "series", "type": "nominal", "scale": {"range": [[1, 0], [5, 3]]}},
    }
    return spec


def funnel_spec(rows: Rows) -> dict:
    values = [
        {**row, "stage": str(selectors.STAGE_LABELS.get(row["stage"], row["stage"]))}
        for row in _values(rows)
    ]
    spec = _base(30 * max(len(values), 1), HALF - 60)
    spec["data"] = {"values": values}
    y = {"field": "stage", "type": "ordinal", "sort": {"field": "position"}, "title": None}
    spec["encoding"] = {"y": y}
    spec["layer"] = [
        {
            "mark": {"type": "bar", "color": NAVY, "height": {"band": 0.7}},
            "encoding": {
                "x": {"field": "reached", "type": "quantitative", "title": _("Customers")}
            },
        },
        {
            "mark": {"type": "text", "align": "left", "dx": 4, "color": INK},
            "encoding": {
                "x": {"field": "reached", "type": "quantitative"},
                "text": {"field": "reached", "type": "quantitative", "format": ","},
            },
        },
    ]
    return spec


def trials_spec(rows: Rows) -> dict:
    spec = _base(220, HALF - 40)
    spec["data"] = {"values": [r for r in _values(rows) if r["conversion"] is not None]}
    spec["encoding"] = {"x": MONTH_AXIS}
    spec["layer"] = [
        {
            "mark": {"type": "bar", "color": "#c9d3e3"},
            "encoding": {
                "y": {"field": "trials", "type": "quantitative", "title": _("Trials started")}
            },
        },
        {
            "mark": {"type": "line", "color": NAVY, "point": True},
            "encoding": {
                "y": {
                    "field": "conversion",
                    "type": "quantitative",
                    "title": _("Converted within 30 days"),
                    "axis": {"format": ".0%"},
                    "scale": {"domain": [0, 1]},
                }
            },
        },
    ]
    spec["resolve"] = {"scale": {"y": "independent"}}
    return spec


CHARTS: dict[str, tuple[str, Callable]] = {
    "movements": ("movements", lambda rows, cur: movements_spec(rows, cur)),
    "arpu": ("arpu", lambda rows, cur: arpu_spec(rows, cur)),
    "cohorts": ("cohorts", lambda rows, cur: cohort_spec(rows)),
    "retention": ("retention", lambda rows, cur: retention_spec(rows)),
    "funnel": ("funnel", lambda rows, cur: funnel_spec(rows)),
    "trials": ("trials", lambda rows, cur: trials_spec(rows)),
}


def _number_locale() -> str:
    """The renderer's number format for the page's language: 12 000,5 in Russian."""
    return NUMBER_LOCALES.get((get_language() or "en")[:2], "en-US")


def _key(name: str, run: RecomputeRun, filters: Filters) -> str:
    language = get_language() or ""
    return f"analytics:svg:{name}:{run.pk}:{run.finished_at:%s%f}:{language}:{filters.key()}"


def svgs(run: RecomputeRun, filters: Filters, names=tuple(CHARTS)) -> dict[str, str]:
    """Charts ``names`` as SVG markup (empty when there is nothing to draw), cached.

    Charts not in the cache are rendered side by side on the machine's cores (the
    renderer runs outside the interpreter's lock). Their rows are read here first, on
    this thread's database connection, which is the one that sees the request's data.
    """
    keys = {name: _key(name, run, filters) for name in names}
    cached = cache.get_many(list(keys.values()))
    found = {name: cached[key] for name, key in keys.items() if key in cached}
    specs = {}
    for name in [name for name in keys if name not in found]:
        dataset, build = CHARTS[name]
        rows = DATASETS[dataset](run, filters)
        if rows:
            specs[name] = build(rows, filters.currency)
        else:
            found[name] = ""
    if specs:
        render = partial(vlc.vegalite_to_svg, format_locale=_number_locale())
        with ThreadPoolExecutor(max_workers=RENDER_THREADS) as pool:
            found.update(zip(specs, pool.map(render, specs.values()), strict=True))
    cache.set_many(
        {keys[name]: found[name] for name in keys if keys[name] not in cached}, CACHE_SECONDS
    )
    return {name: found[name] for name in names}


def svg(name: str, run: RecomputeRun, filters: Filters) -> str:
    """Chart ``name`` as SVG markup (empty when there is nothing to draw), cached."""
    return svgs(run, filters, (name,))[name]


def warm(run: RecomputeRun) -> None:
    """Render the charts of the default view and of each tier's, so the first visits
    after a run are fast."""
    for tier in ("", *selectors.TIERS):
        svgs(run, selectors.parse_filters(run, {"tier": tier}))
