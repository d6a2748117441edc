"""Revenue metrics computed from the analytics frames, vectorised with Polars.

Every definition is written once, here, and documented in ``docs/metrics.md``. The inputs
are the three frames of the analytics data contract (DataFrame or LazyFrame):

* ``months`` — one row per customer per month from registration to the end of the
  history: ``customer_id``, ``month`` (Date, first day), ``currency``, ``tier``, ``plan``,
  ``state`` ("none" / "trialing" / "paying" at month end), ``mrr``, ``revenue``,
  ``margin``, ``seconds`` (money in Int64 minor units; ``mrr`` already counts annual plans
  1/12 per month);
* ``products`` — ``customer_id``, ``month``, ``product``, ``kind`` ("plan" / "option" /
  "package") held at month end;
* ``funnel`` — ``customer_id``, ``stage`` (one of :data:`STAGES`), ``at`` (UTC), the first
  time the customer reached the stage.

Outputs are eager DataFrames with documented columns. Money stays in Int64 minor units and
is grouped by ``currency`` (amounts in different currencies are never added); averages of
money are rounded half-up to the minor unit from their exact integer quotient; rates are
Float64 and null when there is nothing to divide by. No Python loop runs per customer.
"""

from __future__ import annotations

import polars as pl

from ._frames import STAGES, Frame, prepare
from .cohorts import cohort_retention, rollup, survival_counts
from .customers import monthly_summary, summary_aggregations, usage_per_customer, with_averages
from .funnel import first_stages, funnel_conversion, trial_conversion
from .mrr import (
    MOVEMENTS,
    churn_and_retention,
    cube,
    movement_aggregations,
    mrr_movements,
    mrr_summary,
    retention_aggregations,
    with_retention_rates,
)
from .products import ADD_ONS, attach_rate, product_sales


def recompute(months: Frame, products: Frame, funnel: Frame) -> dict[str, pl.DataFrame]:
    """Every table at once, keyed by its name (what the analytics app stores).

    ``months`` is collected and put in customer order once (:func:`prepare`); the four
    tables per month and currency (the monthly and the trailing-12 churn among them) come
    from one pass over it, the cohort table from its split by tier, and all the queries
    run together (``pl.collect_all``), so that their single-threaded steps (running sums
    and maxima, shifts) overlap.
    """
    months = prepare(months)
    trailing = {
        f"trailing_{name}": sum for name, sum in retention_aggregations("trailing_").items()
    }
    monthly = (
        cube(months, trailing=12)
        .group_by("month", "currency")
        .agg(
            **summary_aggregations(),
            **movement_aggregations(),
            **retention_aggregations(),
            **trailing,
        )
        .cache()
    )
    by_tier = cohort_retention.plan(months, by=("tier",)).cache()
    firsts = first_stages(funnel).cache()
    keys = ("month", "currency")
    plans = {
        "monthly_summary": with_averages(monthly.select(*keys, *summary_aggregations())),
        "mrr_summary": monthly.select(*keys, *movement_aggregations()).sort(*keys),
        "churn_and_retention": with_retention_rates(
            monthly.select(*keys, *retention_aggregations()), 1
        ),
        "churn_and_retention_12": with_retention_rates(
            monthly.select(
                *keys, **{name.removeprefix("trailing_"): pl.col(name) for name in trailing}
            ),
            12,
        ),
        "cohort_retention": rollup.plan(by_tier),
        "cohort_retention_by_tier": by_tier,
        "survival_counts": survival_counts.plan(months),
        "attach_rate": attach_rate.plan(months, products),
        "product_sales": product_sales.plan(products),
        "trial_conversion": trial_conversion.plan(firsts),
        "funnel_conversion": funnel_conversion.plan(firsts),
        "usage_per_customer": usage_per_customer.plan(months),
    }
    return dict(zip(plans, pl.collect_all(list(plans.values())), strict=True))


__all__ = [
    "ADD_ONS",
    "MOVEMENTS",
    "STAGES",
    "Frame",
    "attach_rate",
    "churn_and_retention",
    "cohort_retention",
    "funnel_conversion",
    "monthly_summary",
    "mrr_movements",
    "mrr_summary",
    "prepare",
    "product_sales",
    "recompute",
    "rollup",
    "survival_counts",
    "trial_conversion",
    "usage_per_customer",
]
