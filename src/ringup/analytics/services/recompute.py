"""The recompute: extract the history's frames once, let the metrics engine compute every
table for each slice (all customers, each tier, each plan, each tier and plan), and store
the rows of one run in one transaction."""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import polars as pl
from django.db import IntegrityError, transaction
from django.utils import timezone

from ringup.engine import metrics, retention
from ringup.engine.money import CURRENCY_EXPONENTS

from .. import charts
from ..models import (
    CampaignLift,
    CohortCell,
    FunnelStage,
    MonthlyFigure,
    ProductFigure,
    RecomputeRun,
    RetentionFit,
    TrialMonth,
)
from ..scores import compute_scores
from .extract import Frames, extract
from .lift import campaign_lifts

FIGURES = (
    MonthlyFigure,
    CohortCell,
    RetentionFit,
    ProductFigure,
    FunnelStage,
    TrialMonth,
    CampaignLift,
)
#: Ages the retention projection runs to (months after the first payment).
HORIZON = 24
#: The sBG model is fitted to the cohorts observed for at least this many months.
FIT_AGES = 12
#: The history may start this far back at most: a typo such as 0206-01-01 is refused.
OLDEST = date(2000, 1, 1)


class RecomputeRefused(ValueError):
    """``until`` cannot be recomputed; ``field`` names what is wrong."""

    def __init__(self, field: str, message: str):
        self.field = field
        super().__init__(message)


@dataclass(frozen=True)
class Slice:
    tier: str
    plan: str
    months: pl.DataFrame
    products: pl.DataFrame
    funnel: pl.DataFrame


def recompute(*, at: datetime, until: date | None = None) -> RecomputeRun:
    """Recompute the aggregates of the history before local midnight of ``until``
    (default: the local day of ``at``) and store them as that day's run, replacing what an
    earlier run of the same day stored. Raises :class:`RecomputeRefused` for a day after
    ``at``'s or before 2000."""
    today = timezone.localdate(at)
    until = until or today
    if until > today + timedelta(days=1):
        raise RecomputeRefused("until", f"until {until} is in the future (today is {today})")
    if until < OLDEST:
        raise RecomputeRefused("until", f"until {until} is before {OLDEST}")
    run = _claim(until, at)
    clock = time.perf_counter()
    try:
        frames = extract(until)
        rows = _rows(run, frames)
    except Exception as exc:
        RecomputeRun.objects.filter(pk=run.pk).update(
            status=RecomputeRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}"
        )
        raise
    elapsed = timedelta(seconds=time.perf_counter() - clock)
    with transaction.atomic():
        for model in FIGURES:
            model.objects.filter(run=run).delete()
            model.objects.bulk_create(rows[model], batch_size=2000)
        run.status = RecomputeRun.Status.DONE
        run.customers = frames.months["customer_id"].n_unique()
        run.unpriced = frames.unpriced
        run.finished_at = at + elapsed
        run.duration = elapsed
        run.error = ""
        run.save()
    # The per-customer churn risk and CLV (segment conditions) come from the same frame.
    compute_scores(at=at, months=frames.months)
    charts.warm(run)
    return run


def _claim(until: date, at: datetime) -> RecomputeRun:
    fields = {"status": RecomputeRun.Status.RUNNING, "started_at": at, "error": ""}
    try:
        run, _ = RecomputeRun.objects.update_or_create(until=until, defaults=fields)
    except IntegrityError:
        # Another worker created the row first: the run is the same day's.
        run = RecomputeRun.objects.get(until=until)
    return run


# Slices ---------------------------------------------------------------------------


def slices(frames: Frames) -> Iterator[Slice]:
    """All customers, then each tier, each plan and each tier and plan with customers.

    A plan's slice holds the customers who ever had the plan, counted only in the months
    the plan was theirs (or, between plans, the last one held): moving to another plan is
    churn from this one and a new customer of the other.
    """
    months, products, funnel = frames.months, frames.products, frames.funnel
    yield Slice("", "", months, products, funnel)
    months = months.with_columns(
        pl.col("plan").forward_fill().over("customer_id", order_by="month").alias("held")
    )
    tiers = sorted(months["tier"].unique().drop_nulls())
    plans = sorted(months["plan"].unique().drop_nulls())
    for tier in ["", *tiers]:
        scope = months.filter(pl.col("tier") == tier) if tier else months
        if tier:
            yield _narrowed(tier, "", scope.drop("held"), products, funnel)
        for plan in plans:
            if scope.filter(pl.col("plan") == plan).is_empty():
                continue
            yield _plan_slice(tier, plan, scope, products, funnel)


def _narrowed(tier: str, plan: str, months: pl.DataFrame, products, funnel) -> Slice:
    customers = months.select("customer_id").unique()
    return Slice(
        tier,
        plan,
        months,
        products.join(
            months.select("customer_id", "month"), on=["customer_id", "month"], how="semi"
        ),
        funnel.join(customers, on="customer_id", how="semi"),
    )


def _plan_slice(tier: str, plan: str, months: pl.DataFrame, products, funnel) -> Slice:
    members = months.filter(pl.col("plan") == plan).select("customer_id").unique()
    own = pl.col("held").is_null() | (pl.col("held") == plan)
    scoped = months.join(members, on="customer_id", how="semi").with_columns(
        pl.when(own).then(pl.col("state")).otherwise(pl.lit("none")).alias("state"),
        *(
            pl.when(own).then(pl.col(c)).otherwise(0).alias(c)
            for c in ("mrr", "revenue", "margin", "seconds")
        ),
    )
    held = scoped.filter(pl.col("held") == plan).select("customer_id", "month")
    return Slice(
        tier,
        plan,
        scoped.drop("held"),
        products.join(held, on=["customer_id", "month"], how="semi"),
        funnel.join(members, on="customer_id", how="semi"),
    )


# Engine tables to rows ------------------------------------------------------------


def _rows(run: RecomputeRun, frames: Frames) -> dict[type, list]:
    rows: dict[type, list] = {model: [] for model in FIGURES}
    rows[CampaignLift] = campaign_lifts(run)
    for part in slices(frames):
        key = {"run": run, "tier": part.tier, "plan": part.plan}
        tables = metrics.recompute(part.months, part.products, part.funnel)
        rows[MonthlyFigure] += _monthly(key, tables)
        rows[CohortCell] += _cohorts(key, tables["cohort_retention"])
        if not part.plan:  # a plan's cohorts are too few to fit a model to
            rows[RetentionFit] += _fits(key, tables["survival_counts"])
        rows[ProductFigure] += _products(key, tables["product_sales"], part)
        rows[FunnelStage] += [
            FunnelStage(**key, **row) for row in tables["funnel_conversion"].iter_rows(named=True)
        ]
        rows[TrialMonth] += [
            TrialMonth(
                **key,
                month=row["month"],
                trials=row["trials"],
                converted=row["converted"],
                conversion=row["conversion"],
            )
            for row in tables["trial_conversion"].iter_rows(named=True)
        ]
    return rows


def money(minor: int | None, currency: str) -> Decimal | None:
    """Minor units of ``currency`` as an exact Decimal amount."""
    if minor is None:
        return None
    return Decimal(int(minor)).scaleb(-CURRENCY_EXPONENTS.get(currency, 2))


def _monthly(key: dict, tables: dict[str, pl.DataFrame]) -> list[MonthlyFigure]:
    on = ["month", "currency"]
    movements = tables["mrr_summary"].drop("closing_mrr")
    churn = tables["churn_and_retention"].select(
        *on, "customer_churn", "revenue_churn", "grr", "nrr"
    )
    yearly = tables["churn_and_retention_12"].select(*on, pl.col("nrr").alias("nrr_12"))
    joined = (
        tables["monthly_summary"]
        .join(movements, on=on, how="left")
        .join(churn, on=on, how="left")
        .join(yearly, on=on, how="left")
    )
    figures = []
    for row in joined.iter_rows(named=True):
        cur = row["currency"]

        def m(name: str, cur=cur, row=row) -> Decimal:
            return money(row[name] or 0, cur)

        figures.append(
            MonthlyFigure(
                **key,
                month=row["month"],
                currency=cur,
                active=row["active"],
                paying=row["paying"],
                trialing=row["trialing"],
                revenue=m("revenue"),
                paying_revenue=m("paying_revenue"),
                arpu=money(row["arpu"], cur),
                arppu=money(row["arppu"], cur),
                margin=m("margin"),
                minutes=Decimal(row["seconds"] or 0) / 60,
                mrr=m("mrr"),
                opening_mrr=m("opening_mrr"),
                new_mrr=m("new"),
                reactivation_mrr=m("reactivation"),
                expansion_mrr=m("expansion"),
                contraction_mrr=m("contraction"),
                churned_mrr=m("churn"),
                new_customers=row["new_customers"] or 0,
                reactivated_customers=row["reactivated_customers"] or 0,
                expanded_customers=row["expanded_customers"] or 0,
                contracted_customers=row["contracted_customers"] or 0,
                churned_customers=row["churned_customers"] or 0,
                customer_churn=row["customer_churn"],
                revenue_churn=row["revenue_churn"],
                grr=row["grr"],
                nrr=row["nrr"],
                nrr_12=row["nrr_12"],
            )
        )
    return figures


def _cohorts(key: dict, table: pl.DataFrame) -> list[CohortCell]:
    return [
        CohortCell(
            **key,
            currency=row["currency"],
            cohort=row["cohort"],
            age=row["age"],
            customers=row["customers"],
            paying=row["paying"],
            mrr=money(row["mrr"], row["currency"]),
            starting_mrr=money(row["starting_mrr"], row["currency"]),
            logo_retention=row["logo_retention"],
            revenue_retention=row["revenue_retention"],
        )
        for row in table.iter_rows(named=True)
    ]


def _fits(key: dict, survival: pl.DataFrame) -> list[RetentionFit]:
    """One sBG fit per currency, to the pooled survival of the cohorts observed for
    :data:`FIT_AGES` months (all cohorts, to their common age, when none is that old):
    pooling cohorts of the same age keeps every count uncensored."""
    fits = []
    for (currency,), part in survival.group_by("currency"):
        observed = part.group_by("cohort").agg(pl.col("age").max().alias("last"))
        ages = min(FIT_AGES, observed["last"].max())
        old = observed.filter(pl.col("last") >= ages).select("cohort")
        pooled = (
            part.join(old, on="cohort", how="semi")
            .filter(pl.col("age") <= ages)
            .group_by("age")
            .agg(pl.col("alive").sum())
            .sort("age")
        )
        alive = pooled["alive"].to_list()
        if len(alive) < 2 or not alive[0]:
            continue
        try:
            fit = retention.fit_sbg(alive)
        except retention.RetentionError:
            continue  # nobody churned yet: there is nothing to fit
        fits.append(
            RetentionFit(
                **key,
                currency=currency,
                alpha=fit.alpha,
                beta=fit.beta,
                customers=alive[0],
                observed=[count / alive[0] for count in alive],
                projected=retention.project(fit, HORIZON),
            )
        )
    return fits


def _products(key: dict, sales: pl.DataFrame, part: Slice) -> list[ProductFigure]:
    attach = metrics.attach_rate(part.months, part.products, by=()).select(
        "month", "product", pl.col("holders").alias("paying_holders"), "paying", "attach_rate"
    )
    joined = sales.join(attach, on=["month", "product"], how="left")
    return [ProductFigure(**key, **row) for row in joined.iter_rows(named=True)]
