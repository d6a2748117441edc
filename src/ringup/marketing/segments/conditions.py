"""Segment conditions: a JSON tree, validated with errors that name the JSON path, and
compiled to one ``Q`` over customers.

A group is ``{"all": [..]}`` (AND), ``{"any": [..]}`` (OR) or ``{"not": condition}``;
a leaf is ``{"field": F, "op": OP, "value": V}``. The fields, their operators and values
are listed in ``FIELDS`` and in docs/segments.md. Aggregates (revenue, usage) compile to
correlated sums and the rest to ``EXISTS``, so a whole tree is one SQL statement.
"""

import calendar
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    Exists,
    IntegerField,
    OuterRef,
    Q,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from ringup.billing.models import (
    Invoice,
    Payment,
    Subscription,
    SubscriptionChange,
    SubscriptionOption,
)
from ringup.billing.selectors.invoices import invoiced_compared
from ringup.catalog.models import Plan, Segment
from ringup.customers.models import Customer, CustomerScore
from ringup.usage.models import RatedCall

# A subscription in one of these states gives the customer a working service.
LIVE_STATUSES = (
    Subscription.Status.TRIALING,
    Subscription.Status.ACTIVE,
    Subscription.Status.PAST_DUE,
)
CODE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")
COUNTRY = re.compile(r"^[A-Z]{2}$")
LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
MAX_DAYS = 36_600
MAX_MONTHS = 1_200
MAX_LIST = 200
MAX_AMOUNT = Decimal(10**12)


class ConditionError(ValueError):
    """Conditions that cannot be evaluated. ``errors`` maps each JSON path
    (e.g. ``conditions.all.1.value``) to what is wrong there."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{path}: {msg}" for path, msg in errors.items()))


class _Bad(Exception):
    def __init__(self, path: str, message: str):
        self.path, self.message = path, message


@dataclass(frozen=True)
class Field:
    """One condition field: its operators, how its value is read (raising ``_Bad``), how
    it compiles to a ``Q`` at an instant, and how it reads in the back office."""

    label: str
    ops: tuple[str, ...]
    parse: Callable[[Any, str, str], Any]
    build: Callable[[str, Any, datetime], Q]
    describe: Callable[[str, Any], str]
    # For the back office's condition builder: the kind of value input it shows.
    kind: str = "choices"
    choices: tuple[str, ...] = ()


# ---------------------------------------------------------------- values


def _choices(allowed: tuple[str, ...] | None, pattern: re.Pattern | None = None):
    def parse(value, op, path):
        if not isinstance(value, list) or not value:
            raise _Bad(path, "expected a non-empty list")
        if len(value) > MAX_LIST:
            raise _Bad(path, f"at most {MAX_LIST} values")
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise _Bad(f"{path}.{index}", "expected a string")
            if allowed is not None and item not in allowed:
                raise _Bad(
                    f"{path}.{index}", f"unknown value {item!r}; one of {', '.join(allowed)}"
                )
            if pattern is not None and not pattern.match(item):
                raise _Bad(f"{path}.{index}", f"not a valid value: {item!r}")
        return list(value)

    return parse


def _integer(value, path, *, low=0, high=MAX_DAYS):
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(path, "expected a whole number")
    if not low <= value <= high:
        raise _Bad(path, f"expected a number from {low} to {high}")
    return value


def _days(value, op, path):
    return _integer(value, path)


def _count(value, op, path):
    return _integer(value, path, high=10**6)


def _flag(value, op, path):
    if not isinstance(value, bool):
        raise _Bad(path, "expected true or false")
    return value


def _option_codes(value, op, path):
    if op == "eq":
        if not isinstance(value, str) or not CODE.match(value):
            raise _Bad(path, "expected an option code")
        return [value]
    return _choices(None, CODE)(value, op, path)


def _days_or_never(value, op, path):
    return None if value is None else _integer(value, path)


def _object(value, path, keys: tuple[str, ...]) -> dict:
    if not isinstance(value, dict):
        raise _Bad(path, f"expected an object with {' and '.join(keys)}")
    for key in keys:
        if key not in value:
            raise _Bad(f"{path}.{key}", "missing")
    extra = sorted(set(value) - set(keys))
    if extra:
        raise _Bad(f"{path}.{extra[0]}", "unknown key")
    return value


def _revenue(value, op, path):
    value = _object(value, path, ("months", "amount"))
    months = _integer(value["months"], f"{path}.months", low=1, high=MAX_MONTHS)
    return months, _amount(value["amount"], f"{path}.amount")


def _amount(raw, path):
    # Money arrives as a decimal string (or a whole number), never a float.
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _Bad(path, 'expected a decimal string, e.g. "1000.00"')
    try:
        amount = Decimal(str(raw))
    except InvalidOperation:
        raise _Bad(path, 'expected a decimal string, e.g. "1000.00"') from None
    if not amount.is_finite() or amount < 0 or amount.as_tuple().exponent < -2:
        raise _Bad(path, "expected a non-negative amount with at most 2 decimals")
    if amount > MAX_AMOUNT:
        raise _Bad(path, f"at most {MAX_AMOUNT}")
    return amount


def _clv(value, op, path):
    return _amount(value, path)


def _probability(value, op, path):
    # A probability is not money: a JSON number is as good as a string here.
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _Bad(path, 'expected a probability from 0 to 1, e.g. "0.30"')
    try:
        risk = Decimal(str(value))
    except InvalidOperation:
        raise _Bad(path, 'expected a probability from 0 to 1, e.g. "0.30"') from None
    if not risk.is_finite() or not 0 <= risk <= 1 or risk.as_tuple().exponent < -4:
        raise _Bad(path, "expected a probability from 0 to 1 with at most 4 decimals")
    return risk


def _usage(value, op, path):
    value = _object(value, path, ("days", "minutes"))
    days = _integer(value["days"], f"{path}.days", low=1)
    minutes = _integer(value["minutes"], f"{path}.minutes", high=10**12)
    return days, minutes


# ---------------------------------------------------------------- time


def zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def months_before(at: datetime, months: int) -> datetime:
    """The same local wall-clock time ``months`` calendar months earlier (the day clamped
    to the month's length: 31 May − 3 months = 28/29 February)."""
    local = at.astimezone(zone())
    years, month0 = divmod(local.month - 1 - months, 12)
    year, month = local.year + years, month0 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day)


# ---------------------------------------------------------------- building blocks


def _current(subscriptions, at: datetime):
    return subscriptions.filter(started_at__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )


def _live_subscriptions(at: datetime):
    return _current(
        Subscription.objects.filter(customer=OuterRef("pk"), status__in=LIVE_STATUSES), at
    )


def _compare(op: str, lookup: str, value) -> Q:
    return Q(**{f"{lookup}__{op}": value})


def _per_customer_compared(op: str, rows, key: str, aggregate, threshold, output_field) -> Q:
    """Customers whose ``aggregate`` over their ``rows`` (``key`` names the customer) is
    ≥ (gte) or ≤ (lte) ``threshold``; customers without rows count as zero.

    A correlated aggregate per customer, read through the rows' (customer, …) index: it
    touches only the candidates' rows and works the same for both directions (an "at
    most" must keep the customers who have no rows at all). Measured against a grouped
    semi-join in docs/segments.md.
    """
    per_customer = (
        rows.filter(**{key: OuterRef("pk")})
        .order_by()
        .values(key)
        .annotate(total=aggregate)
        .values("total")
    )
    total = Coalesce(Subquery(per_customer), Value(0), output_field=output_field)
    compare = GreaterThanOrEqual if op == "gte" else LessThanOrEqual
    return Q(compare(total, Value(threshold, output_field=output_field)))


def _sum_compared(op: str, rows, summed: str, threshold) -> Q:
    return _per_customer_compared(op, rows, "customer_id", Sum(summed), threshold, DecimalField())


# ---------------------------------------------------------------- fields


def _tier(op, tiers, at):
    return Q(tier__in=tiers)


def _plan(op, codes, at):
    return Q(Exists(_live_subscriptions(at).filter(plan__code__in=codes)))


def _options_owned(codes, at):
    owned = SubscriptionOption.objects.filter(
        subscription__customer=OuterRef("pk"),
        subscription__status__in=LIVE_STATUSES,
        subscription__started_at__lte=at,
        option__code__in=codes,
        added_at__lte=at,
    ).filter(
        Q(subscription__ended_at__isnull=True) | Q(subscription__ended_at__gt=at),
        Q(removed_at__isnull=True) | Q(removed_at__gt=at),
    )
    return Q(Exists(owned))


def _has_option(op, codes, at):
    return _options_owned(codes, at)


def _lacks_option(op, codes, at):
    return ~_options_owned(codes, at)


def _status(op, statuses, at):
    return Q(
        Exists(
            Subscription.objects.filter(
                customer=OuterRef("pk"), status__in=statuses, started_at__lte=at
            )
        )
    )


def _registered(op, days, at):
    # "Registered more than N days ago" is "registered before at − N days": the
    # comparison flips when days become an instant.
    flipped = {"lt": "gt", "lte": "gte", "gt": "lt", "gte": "lte"}[op]
    return _compare(flipped, "registered_at", at - timedelta(days=days))


def _email_verified(op, flag, at):
    verified = Q(email_verified_at__isnull=False, email_verified_at__lte=at)
    return verified if flag else ~verified


def _no_active_service(op, flag, at):
    served = Q(Exists(_live_subscriptions(at)))
    return ~served if flag else served


def reads_revenue_timelines() -> bool:
    """Whether revenue is read from billing's per-customer timelines (PostgreSQL) rather
    than summed from the invoices (docs/segments.md compares the two)."""
    return connection.vendor == "postgresql"


def _revenue_q(op, value, at):
    months, amount = value
    since = months_before(at, months)
    if reads_revenue_timelines():
        return invoiced_compared(op == "gte", amount, since=since, until=at)
    invoiced = Invoice.objects.filter(
        status=Invoice.Status.FINALISED, issued_at__gte=since, issued_at__lt=at
    )
    return _sum_compared(op, invoiced, "total", amount)


def _usage_q(op, value, at):
    days, minutes = value
    calls = RatedCall.objects.filter(
        customer__isnull=False, start__gte=at - timedelta(days=days), start__lt=at
    )
    return _sum_compared(op, calls, "duration", minutes * 60)


def _referral_count(op, count, at):
    # Customers who joined through this customer's referral by ``at`` (the referral
    # program writes ``Customer.referrer``; rejected referrals never do), counted over the
    # referrer's index; "at most" keeps the customers with none.
    joined = Customer.objects.filter(registered_at__lt=at)
    return _per_customer_compared(op, joined, "referrer", Count("pk"), count, IntegerField())


def _last_seen(model, moment: str):
    def build(op, days, at):
        def within(since: datetime | None) -> Q:
            rows = model.objects.filter(customer=OuterRef("pk"), **{f"{moment}__lte": at})
            if since is not None:
                rows = rows.filter(**{f"{moment}__gt": since})
            return Q(Exists(rows))

        if days is None:
            return ~within(None)
        recent = within(at - timedelta(days=days))
        # "More than N days ago" needs a first one at all: never is asked with null.
        return recent if op == "lt" else within(None) & ~recent

    return build


def _trial_ends(op, days, at):
    ending = Subscription.objects.filter(
        customer=OuterRef("pk"),
        status=Subscription.Status.TRIALING,
        trial_ends_at__gt=at,
        trial_ends_at__lte=at + timedelta(days=days),
    )
    return Q(Exists(ending))


def _on_cheapest_plan(op, days, at):
    cheapest = (
        Plan.objects.filter(segment=OuterRef(OuterRef("tier")), is_public=True)
        .order_by("monthly_fee", "sort_order", "pk")
        .values("pk")[:1]
    )
    since = at - timedelta(days=days)
    recent_switch = SubscriptionChange.objects.filter(
        subscription=OuterRef("pk"), to_plan__isnull=False, at__gt=since, at__lte=at
    )
    staying = (
        _live_subscriptions(at)
        .filter(plan=Subquery(cheapest), started_at__lte=since)
        .exclude(Exists(recent_switch))
    )
    return Q(Exists(staying))


def _score(column: str):
    """Compare a stored score (customers.CustomerScore); a customer not scored yet
    matches neither "at least" nor "at most" (an unknown risk is not a low one)."""

    def build(op, threshold, at):
        scored = CustomerScore.objects.filter(
            customer=OuterRef("pk"), **{f"{column}__{op}": threshold}
        )
        return Q(Exists(scored))

    return build


def _codes_text(op, values):
    return ", ".join(values)


def _numeric_text(unit):
    def text(op, value):
        return f"{OPS[op]} {value} {unit}"

    return text


def _never_text(unit):
    def text(op, value):
        return "never" if value is None else f"{OPS[op]} {value} {unit} ago"

    return text


OPS = {
    "in": "is one of",
    "eq": "is",
    "is": "is",
    "lt": "less than",
    "lte": "at most",
    "gt": "more than",
    "gte": "at least",
}
DAYS_OPS = ("lt", "lte", "gt", "gte")
OPTION_OPS = ("in", "eq")

FIELDS: dict[str, Field] = {
    "tier": Field(
        "Segment tier",
        ("in",),
        _choices(tuple(Segment.values)),
        _tier,
        lambda op, v: f"is one of {', '.join(v)}",
        kind="choices",
        choices=tuple(Segment.values),
    ),
    "plan": Field(
        "Plan (live subscription)",
        ("in",),
        _choices(None, CODE),
        _plan,
        lambda op, v: f"is one of {', '.join(v)}",
        kind="plans",
    ),
    "has_option": Field(
        "Has option",
        OPTION_OPS,
        _option_codes,
        _has_option,
        lambda op, v: " or ".join(v),
        kind="options",
    ),
    "lacks_option": Field(
        "Lacks option",
        OPTION_OPS,
        _option_codes,
        _lacks_option,
        lambda op, v: " and ".join(v),
        kind="options",
    ),
    "status": Field(
        "Has a subscription in status",
        ("in",),
        _choices(tuple(Subscription.Status.values)),
        _status,
        lambda op, v: ", ".join(v),
        kind="choices",
        choices=tuple(Subscription.Status.values),
    ),
    "registered_days_ago": Field(
        "Registered",
        DAYS_OPS,
        _days,
        _registered,
        lambda op, v: f"{OPS[op]} {v} days ago",
        kind="days",
    ),
    "email_verified": Field(
        "E-mail verified",
        ("is",),
        _flag,
        _email_verified,
        lambda op, v: "yes" if v else "no",
        kind="flag",
    ),
    "no_active_service": Field(
        "Has no active service",
        ("is",),
        _flag,
        _no_active_service,
        lambda op, v: "yes" if v else "no",
        kind="flag",
    ),
    "revenue": Field(
        "Invoiced",
        ("gte", "lte"),
        _revenue,
        _revenue_q,
        lambda op, v: f"{OPS[op]} {v[1]} in the last {v[0]} months",
        kind="revenue",
    ),
    "usage_minutes": Field(
        "Call minutes",
        ("gte", "lte"),
        _usage,
        _usage_q,
        lambda op, v: f"{OPS[op]} {v[1]} in the last {v[0]} days",
        kind="usage",
    ),
    "last_payment_days": Field(
        "Last payment",
        ("gt", "lt"),
        _days_or_never,
        _last_seen(Payment, "received_at"),
        _never_text("days"),
        kind="days_or_never",
    ),
    "last_call_days": Field(
        "Last call",
        ("gt", "lt"),
        _days_or_never,
        _last_seen(RatedCall, "start"),
        _never_text("days"),
        kind="days_or_never",
    ),
    "country": Field(
        "Country",
        ("in",),
        _choices(None, COUNTRY),
        lambda op, v, at: Q(country__in=v),
        lambda op, v: f"is one of {', '.join(v)}",
        kind="words",
    ),
    "language": Field(
        "Language",
        ("in",),
        _choices(None, LANGUAGE),
        lambda op, v, at: Q(language__in=v),
        lambda op, v: f"is one of {', '.join(v)}",
        kind="words",
    ),
    "source": Field(
        "Came from",
        ("in",),
        _choices(tuple(Customer.Source.values)),
        lambda op, v, at: Q(source__in=v),
        lambda op, v: f"is one of {', '.join(v)}",
        kind="choices",
        choices=tuple(Customer.Source.values),
    ),
    "trial_ends_in_days": Field(
        "Trial ends within",
        ("lte",),
        _days,
        _trial_ends,
        lambda op, v: f"{v} days",
        kind="days",
    ),
    "on_cheapest_plan_days": Field(
        "On the tier's cheapest plan",
        ("gte",),
        _days,
        _on_cheapest_plan,
        lambda op, v: f"for at least {v} days",
        kind="days",
    ),
    "referral_count": Field(
        "Referred customers",
        ("gte", "lte"),
        _count,
        _referral_count,
        lambda op, v: f"{OPS[op]} {v}",
        kind="count",
    ),
    "churn_risk": Field(
        "Churn risk next month",
        ("gte", "lte"),
        _probability,
        _score("churn_risk"),
        lambda op, v: f"{OPS[op]} {(v * 100).normalize():f} %",
        kind="probability",
    ),
    "clv": Field(
        "Customer lifetime value",
        ("gte", "lte"),
        _clv,
        _score("clv"),
        lambda op, v: f"{OPS[op]} {v}",
        kind="amount",
    ),
}
# Fields of the product that need data this version does not record yet.
NOT_YET: dict[str, str] = {}
GROUPS = ("all", "any", "not")


# ---------------------------------------------------------------- the tree


def _parse(node, path: str, errors: dict[str, str], depth: int = 0):
    """The tree with leaf values parsed, collecting every error rather than the first."""
    if depth > 20:
        errors[path] = "nested too deeply (at most 20 levels)"
        return None
    if not isinstance(node, dict):
        errors[path] = 'expected an object: a group ("all", "any", "not") or a condition'
        return None
    groups = [key for key in GROUPS if key in node]
    if groups:
        if len(node) != 1:
            errors[path] = f"a group has exactly one key ({', '.join(GROUPS)})"
            return None
        key = groups[0]
        if key == "not":
            return ("not", _parse(node["not"], f"{path}.not", errors, depth + 1))
        children = node[key]
        if not isinstance(children, list):
            errors[f"{path}.{key}"] = "expected a list of conditions"
            return None
        return (
            key,
            [_parse(c, f"{path}.{key}.{i}", errors, depth + 1) for i, c in enumerate(children)],
        )
    return _parse_leaf(node, path, errors)


def _parse_leaf(node: dict, path: str, errors: dict[str, str]):
    extra = sorted(set(node) - {"field", "op", "value"})
    if extra:
        errors[f"{path}.{extra[0]}"] = "unknown key"
        return None
    name = node.get("field")
    if name in NOT_YET:
        errors[f"{path}.field"] = f"{name}: {NOT_YET[name]}"
        return None
    if name not in FIELDS:
        errors[f"{path}.field"] = (
            f"unknown field {name!r}" if name is not None else "missing"
        ) + f"; one of {', '.join(FIELDS)}"
        return None
    field = FIELDS[name]
    op = node.get("op")
    if op not in field.ops:
        errors[f"{path}.op"] = f"{name} takes {', '.join(field.ops)}"
        return None
    if "value" not in node:
        errors[f"{path}.value"] = "missing"
        return None
    try:
        return ("leaf", name, op, field.parse(node["value"], op, f"{path}.value"))
    except _Bad as bad:
        errors[bad.path] = bad.message
        return None


def _checked(conditions, path: str):
    errors: dict[str, str] = {}
    tree = _parse(conditions, path, errors)
    if errors:
        raise ConditionError(errors)
    return tree


def validate(conditions, *, path: str = "conditions") -> None:
    """Raise ``ConditionError`` naming every bad JSON path, or return None. Touches no
    database: codes of plans and options are checked for form only (an unknown code
    simply matches nobody)."""
    _checked(conditions, path)


def _build(tree, at: datetime) -> Q:
    kind = tree[0]
    if kind == "leaf":
        _, name, op, value = tree
        return FIELDS[name].build(op, value, at)
    if kind == "not":
        return ~_build(tree[1], at)
    parts = [_build(child, at) for child in tree[1]]
    if not parts:
        # An empty AND is true (everyone); an empty OR is false (no one).
        return Q() if kind == "all" else Q(pk__in=[])
    combined = parts[0]
    for part in parts[1:]:
        combined = combined & part if kind == "all" else combined | part
    return combined


def compile_conditions(conditions, *, at: datetime) -> Q:
    """One ``Q`` over ``Customer`` selecting who, registered by ``at``, meets
    ``conditions`` at that instant. Raises ``ConditionError`` on bad conditions."""
    if at.tzinfo is None:
        raise ValueError("at must be an aware datetime")
    # Nobody is a member before registering, whatever the conditions say.
    return Q(registered_at__lte=at) & _build(_checked(conditions, "conditions"), at)


def _describe(tree, depth: int) -> str:
    kind = tree[0]
    if kind == "leaf":
        _, name, op, value = tree
        field = FIELDS[name]
        return f"{field.label} {field.describe(op, value)}"
    if kind == "not":
        return f"NOT ({_describe(tree[1], depth + 1)})"
    if not tree[1]:
        return "every customer" if kind == "all" else "no customer"
    joiner = " AND " if kind == "all" else " OR "
    text = joiner.join(_describe(child, depth + 1) for child in tree[1])
    return f"({text})" if depth and len(tree[1]) > 1 else text


def describe(conditions) -> str:
    """The conditions in words, e.g. ``Segment tier is one of smb AND (Last call more
    than 30 days ago OR …)``. Raises ``ConditionError`` on bad conditions."""
    return _describe(_checked(conditions, "conditions"), 0)
