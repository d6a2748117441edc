"""The three frames of the metrics engine (``months``, ``products``, ``funnel``; docs/metrics.md,
"Extraction"), read from billing, usage, customers and referrals.

Every step is set-based: a few queries fetch columns (sums per customer and month are
grouped by the database), Polars joins them, and month-end configurations are priced once
per distinct configuration with billing's own pricer — never a Python loop per customer
per month.

Month-end means the month's last instant: a change counts for a month when it happened
before the first instant of the next month (local midnight in the operator's zone), so a
subscription ending at midnight on the 1st was still in force at the end of the month
before. The last month ends at ``until`` (exclusive) when that comes first.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import polars as pl
from django.conf import settings
from django.db.models import BooleanField, ExpressionWrapper, F, Q, Sum
from django.db.models.functions import TruncMonth

from ringup.billing.conf import billing_settings
from ringup.billing.models import (
    CreditNote,
    Invoice,
    Subscription,
    SubscriptionChange,
    SubscriptionDiscount,
    SubscriptionOption,
)
from ringup.billing.selectors.pricing import CatalogPricer
from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.customers.models import Customer
from ringup.engine.invoicing import (
    Config,
    DiscountKind,
    PeriodDiscount,
    discount_lines,
    recurring_lines,
    taxed,
    totals,
)
from ringup.engine.money import CURRENCY_EXPONENTS
from ringup.engine.periods import Interval, local_midnight
from ringup.engine.pricing import SelectionError
from ringup.marketing.referrals.models import Referral
from ringup.usage.models import RatedCall

Kind = SubscriptionChange.Kind
DEFAULT_CURRENCY = "RUB"
UTC_DT = pl.Datetime("us", "UTC")
# A period this long is an annual one: its invoice is spread over twelve months.
LONG_PERIOD = timedelta(days=62)
# A period ends at a local midnight, which already belongs to the next month.
LAST_INSTANT = timedelta(microseconds=1)
# Changes that raise what a paying customer buys (the "upsell" circle).
EXPANDING = (Kind.UPGRADE, Kind.OPTION_ADDED)
SUSPENDING = (Kind.SUSPENDED, Kind.TRIAL_EXPIRED)
STATUS_KINDS = (*SUSPENDING, Kind.REACTIVATED, Kind.PAST_DUE, Kind.CONVERTED)


@dataclass(frozen=True)
class Frames:
    """What the engine computes from, and what extraction could not price."""

    months: pl.DataFrame
    products: pl.DataFrame
    funnel: pl.DataFrame
    unpriced: int  # subscription-months whose configuration the catalog no longer prices


def month_starts(first: date, last: date) -> list[date]:
    """First days of the months from ``first``'s to ``last``'s, inclusive."""
    months, day = [], first.replace(day=1)
    while day <= last:
        months.append(day)
        day = (day + timedelta(days=32)).replace(day=1)
    return months


def _calendar(first: date, until: date, zone: ZoneInfo) -> pl.DataFrame:
    """One row per month: its first day and its end instant (UTC), the last one cut at
    ``until``."""
    cut = local_midnight(until, zone)
    months = month_starts(first, until - timedelta(days=1))
    ends = [
        min(local_midnight((m + timedelta(days=32)).replace(day=1), zone), cut).astimezone(UTC)
        for m in months
    ]
    return pl.DataFrame({"month": months, "end": ends}, schema={"month": pl.Date, "end": UTC_DT})


def _local_month(column: str, zone: ZoneInfo) -> pl.Expr:
    return pl.col(column).dt.convert_time_zone(str(zone)).dt.date().dt.truncate("1mo")


def _frame(rows: Iterable[tuple], schema: dict) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def minor_units(amount: Decimal | None, currency: str) -> int:
    """``amount`` in the currency's minor units, rounded half up (sums of 6-decimal call
    costs); None is 0."""
    if amount is None:
        return 0
    exponent = CURRENCY_EXPONENTS.get(currency, 2)
    return int(Decimal(amount).scaleb(exponent).quantize(Decimal(1), rounding="ROUND_HALF_UP"))


# Subscriptions at month ends ----------------------------------------------------------


def _subscriptions(until_at: datetime, zone: ZoneInfo) -> pl.DataFrame:
    codes = dict(Plan.objects.values_list("id", "code"))
    packages = dict(TrafficPackage.objects.values_list("id", "code"))
    rows = (
        Subscription.objects.filter(started_at__lt=until_at)
        .order_by("pk")
        .values_list(
            "pk",
            "customer_id",
            "plan_id",
            "period",
            "employees",
            "numbers",
            "traffic_package_id",
            "discount_percent",
            "started_at",
            "trial_ends_at",
            "billing_starts_on",
            "trial_converts",
            "ended_at",
        )
    )
    never = datetime.max.replace(tzinfo=UTC) - timedelta(days=1)
    return _frame(
        (
            (
                pk,
                customer,
                codes[plan],
                period,
                employees,
                numbers,
                packages.get(package),
                str(discount),
                started,
                trial_ends,
                # A trial waiting for the customer's decision has no paid start yet.
                local_midnight(first_paid, zone) if converts else never,
                ended,
            )
            for (
                pk,
                customer,
                plan,
                period,
                employees,
                numbers,
                package,
                discount,
                started,
                trial_ends,
                first_paid,
                converts,
                ended,
            ) in rows
        ),
        {
            "subscription_id": pl.Int64,
            "customer_id": pl.Int64,
            "plan": pl.Utf8,
            "period": pl.Utf8,
            "employees": pl.Int64,
            "numbers": pl.Int64,
            "package": pl.Utf8,
            "discount": pl.Utf8,
            "started_at": UTC_DT,
            "trial_ends_at": UTC_DT,
            "paid_from": UTC_DT,
            "ended_at": UTC_DT,
        },
    )


def _changes() -> pl.DataFrame:
    """Every change, those after ``until`` too: the current configuration is undone from
    the newest back."""
    codes = dict(Plan.objects.values_list("id", "code"))
    packages = dict(TrafficPackage.objects.values_list("id", "code"))
    rows = SubscriptionChange.objects.values_list(
        "subscription_id",
        "at",
        "kind",
        "from_plan_id",
        "from_employees",
        "to_employees",
        "from_numbers",
        "to_numbers",
        "from_package_id",
        "to_package_id",
        "from_period",
    )
    return _frame(
        (
            (sub, at, kind, codes.get(fp), fe, te, fn, tn, packages.get(fpk), packages.get(tpk), p)
            for sub, at, kind, fp, fe, te, fn, tn, fpk, tpk, p in rows
        ),
        {
            "subscription_id": pl.Int64,
            "at": UTC_DT,
            "kind": pl.Utf8,
            "from_plan": pl.Utf8,
            "from_employees": pl.Int64,
            "to_employees": pl.Int64,
            "from_numbers": pl.Int64,
            "to_numbers": pl.Int64,
            "from_package": pl.Utf8,
            "to_package": pl.Utf8,
            "from_period": pl.Utf8,
        },
    ).sort("subscription_id", "at")


def _alive_months(subs: pl.DataFrame, calendar: pl.DataFrame) -> pl.DataFrame:
    """Subscription × month rows for each month end at which the subscription existed."""
    return (
        subs.join(calendar, how="cross")
        .filter(
            (pl.col("started_at") < pl.col("end"))
            & (pl.col("ended_at").is_null() | (pl.col("ended_at") >= pl.col("end")))
        )
        .sort("subscription_id", "end")
    )


def _configurations(rows: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """Plan, employees, numbers, package and period at each month end."""
    for field, mask in (
        ("plan", pl.col("from_plan").is_not_null()),
        ("employees", pl.col("from_employees").is_not_null()),
        ("numbers", pl.col("from_numbers").is_not_null()),
        ("package", pl.col("kind") == Kind.TRAFFIC_PACKAGE),
        ("period", pl.col("kind") == Kind.PERIOD_CHANGED),
    ):
        rows = _undo_later(rows, changes, field, mask)
    return rows


def _undo_later(rows: pl.DataFrame, changes: pl.DataFrame, field: str, mask) -> pl.DataFrame:
    touching = (
        changes.filter(mask)
        .select(
            "subscription_id",
            pl.col("at").alias("change_at"),
            pl.col(f"from_{field}").alias("was"),
        )
        .sort("subscription_id", "change_at")
    )
    joined = rows.join_asof(
        touching,
        left_on="end",
        right_on="change_at",
        by="subscription_id",
        strategy="forward",
        check_sortedness=False,
    )
    return joined.with_columns(
        pl.when(pl.col("change_at").is_not_null())
        .then(pl.col("was"))
        .otherwise(pl.col(field))
        .alias(field)
    ).drop("was", "change_at")


def _states(rows: pl.DataFrame, changes: pl.DataFrame) -> pl.DataFrame:
    """``state`` at each month end: trialing, paying (active or past due) or none
    (suspended, or a trial that ended undecided)."""
    status = (
        changes.filter(pl.col("kind").is_in(list(STATUS_KINDS)))
        .select("subscription_id", pl.col("at").alias("status_at"), pl.col("kind").alias("last"))
        .sort("subscription_id", "status_at")
    )
    # The last status change strictly before the month's end instant.
    joined = rows.join_asof(
        status,
        left_on="end",
        right_on="status_at",
        by="subscription_id",
        strategy="backward",
        allow_exact_matches=False,
        check_sortedness=False,
    )
    suspended = pl.col("last").is_in(list(SUSPENDING)).fill_null(False)
    paid = pl.col("paid_from") < pl.col("end")
    trial = pl.col("trial_ends_at").is_not_null() & (pl.col("trial_ends_at") >= pl.col("end"))
    return joined.with_columns(
        pl.when(paid & ~suspended)
        .then(pl.lit("paying"))
        .when(~paid & trial)
        .then(pl.lit("trialing"))
        .otherwise(pl.lit("none"))
        .alias("state")
    ).drop("status_at", "last")


def _option_codes(until_at: datetime, calendar: pl.DataFrame) -> pl.DataFrame:
    """Subscription × month × option held at the month end."""
    codes = dict(Option.objects.values_list("id", "code"))
    spans = _frame(
        (
            (sub, codes[option], added, removed)
            for sub, option, added, removed in SubscriptionOption.objects.filter(
                added_at__lt=until_at
            ).values_list("subscription_id", "option_id", "added_at", "removed_at")
        ),
        {"subscription_id": pl.Int64, "option": pl.Utf8, "added_at": UTC_DT, "removed_at": UTC_DT},
    )
    return (
        spans.join(calendar, how="cross")
        .filter(
            (pl.col("added_at") < pl.col("end"))
            & (pl.col("removed_at").is_null() | (pl.col("removed_at") >= pl.col("end")))
        )
        .select("subscription_id", "month", "option")
        .unique()
    )


def _granted(until_at: datetime) -> pl.DataFrame:
    """Discounts granted on subscriptions (promotions, loyalty), in the order billing
    applies them; ``periods`` is how many periods each covers (``None``: no end)."""
    rows = SubscriptionDiscount.objects.filter(starts_at__lt=until_at).order_by("starts_at", "pk")
    return _frame(
        ((d.subscription_id, d.pk, d.kind, str(d.value), d.periods, d.starts_at) for d in rows),
        {
            "subscription_id": pl.Int64,
            "discount_id": pl.Int64,
            "kind": pl.Utf8,
            "value": pl.Utf8,
            "periods": pl.Int64,
            "starts_at": UTC_DT,
        },
    )


def _with_granted(rows: pl.DataFrame, granted: pl.DataFrame) -> pl.DataFrame:
    """``granted``: the discounts in force at each paying month end, as one text key
    ("kind:value" joined by "|", in billing's order) that the pricer applies.

    A discount is in force from the first month end after it starts for as many month
    ends as it covers: its periods (twelve months each for an annual period) or its free
    months. Billing counts periods from its own period starts, so at a grant's first or
    last month the two can differ by the days between a month end and the period's.
    """
    if granted.is_empty():
        return rows.with_columns(pl.lit("").alias("granted"))
    paying = rows.filter(pl.col("state") == "paying").select("subscription_id", "end", "period")
    covered = (
        paying.join(granted, on="subscription_id")
        .filter(pl.col("end") > pl.col("starts_at"))
        .sort("discount_id", "end")
        .with_columns(pl.int_range(1, pl.len() + 1).over("discount_id").alias("nth"))
        .with_columns(
            pl.when(pl.col("kind") == DiscountKind.FREE_MONTHS.value)
            .then(pl.col("value").cast(pl.Decimal(14, 2)).cast(pl.Int64))
            .when(pl.col("period") == "annual")
            .then(pl.col("periods") * 12)
            .otherwise(pl.col("periods"))
            .alias("limit")
        )
        .filter(pl.col("limit").is_null() | (pl.col("nth") <= pl.col("limit")))
        .sort("subscription_id", "end", "starts_at", "discount_id")
        .group_by("subscription_id", "end", maintain_order=True)
        .agg(pl.format("{}:{}", "kind", "value").str.join("|").alias("granted"))
    )
    return rows.join(covered, on=["subscription_id", "end"], how="left").with_columns(
        pl.col("granted").fill_null("")
    )


def _net_monthly(quote, vat, granted: str = "", period: str = "monthly") -> Decimal:
    """The recurring fees of a month without VAT, taxed line by line as an invoice of a
    monthly period is (an annual period's quote is already per month: 1/12), less the
    granted discounts in force (``_with_granted``) as billing's discount lines take them:
    a percentage of what is left, an amount off (a twelfth of an annual period's), a
    free month."""
    lines = recurring_lines(quote, Interval.MONTHLY)
    discounts = [
        _discount(i, entry, period) for i, entry in enumerate(filter(None, granted.split("|")))
    ]
    base = sum((line.amount for line in lines), Decimal(0))
    found, _ = discount_lines(discounts, base, 1, quote.currency)
    return totals(taxed([*lines, *found], vat, quote.currency), quote.currency).net


def _discount(index: int, entry: str, period: str) -> PeriodDiscount:
    kind, value = entry.split(":")
    amount = Decimal(value)
    if kind == DiscountKind.AMOUNT.value and period == "annual":
        amount /= 12  # the amount is off each annual period: a twelfth of it a month
    return PeriodDiscount(
        code=f"granted-{index}", kind=DiscountKind(kind), value=amount, description=""
    )


def _priced(rows: pl.DataFrame, options: pl.DataFrame) -> tuple[pl.DataFrame, int]:
    """``mrr`` (minor units) of each paying subscription-month, priced once per distinct
    configuration by billing's pricer (annual periods count their monthly share)."""
    # Options as one sorted, comma-joined text: a key that joins and compares exactly.
    held = options.group_by("subscription_id", "month").agg(
        pl.col("option").sort().str.join(",").alias("options")
    )
    rows = rows.join(held, on=["subscription_id", "month"], how="left").with_columns(
        pl.col("options").fill_null("")
    )
    key = ["plan", "employees", "numbers", "options", "package", "discount", "period", "granted"]
    distinct = rows.filter(pl.col("state") == "paying").group_by(key).len()
    pricer, prices, unpriced = CatalogPricer(), [], 0
    vat = billing_settings().vat
    for row in distinct.iter_rows():
        plan, employees, numbers, opts, package, discount, period, granted, count = row
        codes = tuple(opts.split(",")) if opts else ()
        config = Config(plan, employees, numbers, codes, package, Decimal(discount))
        try:
            quote = pricer.quote(config, Interval(period))
        except SelectionError:
            # An option or package the catalog no longer offers on the plan: counted, and
            # the month's MRR is left at zero rather than guessed.
            unpriced += count
            prices.append(0)
            continue
        prices.append(minor_units(_net_monthly(quote, vat, granted, period), quote.currency))
    priced = distinct.drop("len").with_columns(pl.Series("price", prices, dtype=pl.Int64))
    rows = rows.join(priced, on=key, how="left", nulls_equal=True).with_columns(
        pl.when(pl.col("state") == "paying")
        .then(pl.col("price").fill_null(0))
        .otherwise(0)
        .alias("mrr")
    )
    return rows.drop("price"), unpriced


# Money and calls per customer and month ---------------------------------------------


def _revenue(until_at: datetime, zone: ZoneInfo) -> pl.DataFrame:
    """Revenue recognised per customer and month, minor units, without VAT: a finalised
    invoice in the month its period ends (the service month, not the later day it is
    issued in arrears), an annual period's invoice spread evenly over the twelve months it
    covers, less credit notes in the month they were issued.

    A customer has about one invoice a month, so grouping in the database would return as
    many rows as it reads: the rows are fetched and bucketed into local months here."""
    long_period = Q(period_end__gt=F("period_start") + LONG_PERIOD)
    invoiced = (
        Invoice.objects.filter(status=Invoice.Status.FINALISED, issued_at__lt=until_at)
        .annotate(long=ExpressionWrapper(long_period, output_field=BooleanField()))
        .values_list("customer_id", "period_end", "currency", "net_amount", "long")
    )
    credited = CreditNote.objects.filter(issued_at__lt=until_at).values_list(
        "customer_id", "issued_at", "currency", "net_amount"
    )
    schema = {"customer_id": pl.Int64, "at": UTC_DT, "revenue": pl.Int64, "long": pl.Boolean}
    rows = _frame(
        (
            *(
                (c, end - LAST_INSTANT, minor_units(net, cur), bool(long))
                for c, end, cur, net, long in invoiced
            ),
            *((c, at, -minor_units(net, cur), False) for c, at, cur, net in credited),
        ),
        schema,
    ).with_columns(_local_month("at", zone).alias("month"))
    spread = _spread(rows.filter(pl.col("long")).select("customer_id", "month", "revenue"))
    return (
        pl.concat([rows.filter(~pl.col("long")).select("customer_id", "month", "revenue"), spread])
        .group_by("customer_id", "month")
        .agg(pl.col("revenue").sum())
    )


def _date(value) -> date:
    # TruncMonth gives a local datetime (PostgreSQL) or date; the month is its day.
    return value.date() if isinstance(value, datetime) else value


def _spread(annual: pl.DataFrame) -> pl.DataFrame:
    """Each amount over the twelve months ending with its month: an equal share each, the
    minor units left over in the last month, so the parts sum to the whole exactly."""
    share = pl.col("revenue") // 12
    return (
        annual.with_columns(pl.int_ranges(-11, 1).alias("offset"))
        .explode("offset")
        .with_columns(
            pl.col("month").dt.offset_by(pl.format("{}mo", pl.col("offset"))).alias("month"),
            pl.when(pl.col("offset") == 0)
            .then(pl.col("revenue") - share * 11)
            .otherwise(share)
            .alias("revenue"),
        )
        .select("customer_id", "month", "revenue")
    )


def _calls(until_at: datetime, zone: ZoneInfo, currencies: dict[int, str]) -> pl.DataFrame:
    """Billed seconds and carrier cost (minor units) of each customer's rated calls per
    month."""
    rows = (
        RatedCall.objects.filter(customer__isnull=False, start__lt=until_at, reason="")
        .annotate(month=TruncMonth("start", tzinfo=zone))
        .values("customer_id", "month")
        .annotate(seconds=Sum("billed_seconds"), carrier=Sum("carrier_cost"))
        .values_list("customer_id", "month", "seconds", "carrier")
    )
    return _frame(
        (
            (c, _date(m), seconds or 0, minor_units(carrier, currencies.get(c, DEFAULT_CURRENCY)))
            for c, m, seconds, carrier in rows
        ),
        {"customer_id": pl.Int64, "month": pl.Date, "seconds": pl.Int64, "carrier": pl.Int64},
    )


# The frames -------------------------------------------------------------------------


def _customers(until_at: datetime) -> tuple[pl.DataFrame, dict[int, str]]:
    """Customers registered before ``until_at`` with their tier and currency: the currency
    of the plan of their latest subscription (what their invoices are in)."""
    currencies = dict(
        Subscription.objects.order_by("customer_id", "started_at", "pk").values_list(
            "customer_id", "plan__currency"
        )
    )
    rows = Customer.objects.filter(registered_at__lt=until_at).values_list(
        "pk", "tier", "registered_at", "email_verified_at"
    )
    frame = _frame(
        (
            (pk, tier, currencies.get(pk, DEFAULT_CURRENCY), registered, verified)
            for pk, tier, registered, verified in rows
        ),
        {
            "customer_id": pl.Int64,
            "tier": pl.Utf8,
            "currency": pl.Utf8,
            "registered_at": UTC_DT,
            "email_verified_at": UTC_DT,
        },
    )
    return frame, currencies


def _subscription_months(
    subs: pl.DataFrame, changes: pl.DataFrame, until_at: datetime, calendar: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """Each subscription's state, configuration and MRR at each month end it existed, and
    the options it held then."""
    rows = _states(_configurations(_alive_months(subs, calendar), changes), changes)
    rows = _with_granted(rows, _granted(until_at))
    options = _option_codes(until_at, calendar)
    rows, unpriced = _priced(rows, options)
    return rows, options, unpriced


def _per_customer(rows: pl.DataFrame) -> pl.DataFrame:
    """One row per customer and month from their subscriptions': paying beats trialing,
    MRR sums, and the plan shown is that of the subscription with most MRR."""
    rank = pl.col("state").replace_strict({"paying": 2, "trialing": 1, "none": 0}, default=0)
    return (
        rows.filter(pl.col("state") != "none")
        .with_columns(rank.alias("rank"))
        .sort(
            "customer_id",
            "month",
            "rank",
            "mrr",
            "subscription_id",
            descending=[False, False, True, True, False],
        )
        .group_by("customer_id", "month", maintain_order=True)
        .agg(
            pl.col("plan").first(),
            pl.col("state").first(),
            pl.col("mrr").sum(),
        )
    )


def extract(until: date, *, zone: ZoneInfo | None = None) -> Frames:
    """The ``months``, ``products`` and ``funnel`` frames of the history before local
    midnight of ``until`` (exclusive)."""
    zone = zone or ZoneInfo(settings.TIME_ZONE)
    until_at = local_midnight(until, zone)
    customers, currencies = _customers(until_at)
    if customers.is_empty():
        return Frames(_empty_months(), _empty_products(), _empty_funnel(), 0)
    first = customers.select(_local_month("registered_at", zone)).min().item()
    calendar = _calendar(first, until, zone)
    subs, changes = _subscriptions(until_at, zone), _changes()
    subscription_months, options, unpriced = _subscription_months(subs, changes, until_at, calendar)
    held = _per_customer(subscription_months)

    registered = customers.with_columns(_local_month("registered_at", zone).alias("since"))
    grid = registered.join(calendar.select("month"), how="cross").filter(
        pl.col("month") >= pl.col("since")
    )
    money = _revenue(until_at, zone)
    calls = _calls(until_at, zone, currencies)
    months = (
        grid.join(held, on=["customer_id", "month"], how="left")
        .join(money, on=["customer_id", "month"], how="left")
        .join(calls, on=["customer_id", "month"], how="left")
        .with_columns(
            pl.col("state").fill_null("none"),
            pl.col("mrr").fill_null(0),
            pl.col("revenue").fill_null(0),
            pl.col("seconds").fill_null(0),
            pl.col("carrier").fill_null(0),
        )
        .with_columns((pl.col("revenue") - pl.col("carrier")).alias("margin"))
        .select(MONTHS_SCHEMA.keys())
        .cast(MONTHS_SCHEMA)
        .sort("customer_id", "month")
    )
    products = _products(subscription_months, options)
    funnel = _funnel(customers, subs, changes, months, calendar, until_at)
    return Frames(months, products, funnel, unpriced)


MONTHS_SCHEMA = {
    "customer_id": pl.Int64,
    "month": pl.Date,
    "currency": pl.Utf8,
    "tier": pl.Utf8,
    "plan": pl.Utf8,
    "state": pl.Utf8,
    "mrr": pl.Int64,
    "revenue": pl.Int64,
    "margin": pl.Int64,
    "seconds": pl.Int64,
}
PRODUCTS_SCHEMA = {"customer_id": pl.Int64, "month": pl.Date, "product": pl.Utf8, "kind": pl.Utf8}
FUNNEL_SCHEMA = {"customer_id": pl.Int64, "stage": pl.Utf8, "at": UTC_DT}
STAGES = ("reach", "capture", "warm", "sell", "upsell", "loyalty", "recommendation")


def _empty_months() -> pl.DataFrame:
    return pl.DataFrame(schema=MONTHS_SCHEMA)


def _empty_products() -> pl.DataFrame:
    return pl.DataFrame(schema=PRODUCTS_SCHEMA)


def _empty_funnel() -> pl.DataFrame:
    return pl.DataFrame(schema=FUNNEL_SCHEMA)


def _products(rows: pl.DataFrame, options: pl.DataFrame) -> pl.DataFrame:
    """What each customer held at each month end while in service (trialing or paying)."""
    live = rows.filter(pl.col("state") != "none")
    plans = live.select(
        "customer_id", "month", pl.col("plan").alias("product"), pl.lit("plan").alias("kind")
    )
    packages = live.filter(pl.col("package").is_not_null()).select(
        "customer_id", "month", pl.col("package").alias("product"), pl.lit("package").alias("kind")
    )
    held = live.select("subscription_id", "customer_id", "month").join(
        options, on=["subscription_id", "month"]
    )
    opts = held.select(
        "customer_id", "month", pl.col("option").alias("product"), pl.lit("option").alias("kind")
    )
    return (
        pl.concat([plans, opts, packages])
        .unique()
        .cast(PRODUCTS_SCHEMA)
        .sort("customer_id", "month", "kind", "product")
    )


def _funnel(
    customers: pl.DataFrame,
    subs: pl.DataFrame,
    changes: pl.DataFrame,
    months: pl.DataFrame,
    calendar: pl.DataFrame,
    until_at: datetime,
) -> pl.DataFrame:
    """The first instant each customer reached each of the seven circles (docs/metrics.md)."""
    until = pl.lit(until_at, dtype=UTC_DT)
    stage = pl.lit
    reach = customers.select(
        "customer_id", stage("reach").alias("stage"), pl.col("registered_at").alias("at")
    )
    capture = customers.filter(pl.col("email_verified_at") < until).select(
        "customer_id", stage("capture").alias("stage"), pl.col("email_verified_at").alias("at")
    )
    warm = subs.filter(pl.col("trial_ends_at").is_not_null()).select(
        "customer_id", stage("warm").alias("stage"), pl.col("started_at").alias("at")
    )
    served = pl.col("ended_at").is_null() | (pl.col("ended_at") > pl.col("paid_from"))
    sell = subs.filter((pl.col("paid_from") < until) & served).select(
        "customer_id", stage("sell").alias("stage"), pl.col("paid_from").alias("at")
    )
    kind = pl.col("kind")
    expanding = (
        kind.is_in(list(EXPANDING))
        | ((kind == Kind.EMPLOYEES) & (pl.col("to_employees") > pl.col("from_employees")))
        | ((kind == Kind.NUMBERS) & (pl.col("to_numbers") > pl.col("from_numbers")))
        | (
            (kind == Kind.TRAFFIC_PACKAGE)
            & pl.col("from_package").is_null()
            & pl.col("to_package").is_not_null()
        )
    )
    # Only what a paying customer adds: the options chosen at the start are the sale.
    upsell = (
        changes.filter(expanding & (pl.col("at") < until))
        .join(subs.select("subscription_id", "customer_id", "paid_from"), on="subscription_id")
        .filter(pl.col("at") > pl.col("paid_from"))
        .select("customer_id", stage("upsell").alias("stage"), "at")
    )
    threshold = {
        currency: minor_units(Decimal(settings.RINGUP_LOYALTY_REVENUE), currency)
        for currency in CURRENCY_EXPONENTS
    }
    loyalty = (
        months.sort("customer_id", "month")
        .with_columns(
            pl.col("revenue").rolling_sum(12, min_samples=1).over("customer_id").alias("trailing"),
            pl.col("currency")
            .replace_strict(threshold, default=None, return_dtype=pl.Int64)
            .alias("threshold"),
        )
        .filter(pl.col("trailing") >= pl.col("threshold"))
        .join(calendar, on="month")
        .select("customer_id", stage("loyalty").alias("stage"), pl.col("end").alias("at"))
    )
    referred = _frame(
        Referral.objects.filter(at__lt=until_at).values_list("referrer_id", "at"),
        {"customer_id": pl.Int64, "at": UTC_DT},
    ).select("customer_id", stage("recommendation").alias("stage"), "at")
    return (
        pl.concat([reach, capture, warm, sell, upsell, loyalty, referred])
        .group_by("customer_id", "stage")
        .agg(pl.col("at").min())
        .join(customers.select("customer_id"), on="customer_id", how="semi")
        .with_columns(pl.col("stage").cast(pl.Enum(STAGES)).alias("order"))
        .sort("customer_id", "order")
        .drop("order")
        .cast(FUNNEL_SCHEMA)
    )
