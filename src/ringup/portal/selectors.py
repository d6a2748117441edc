"""Reads for the customer portal. Every function takes the customer (or their id) and
reads only that customer's rows: the views never look a row up by id alone."""

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from django.db.models import Count, Q, QuerySet, Sum

from ringup.billing.conf import billing_settings
from ringup.billing.models import Invoice, Subscription
from ringup.billing.selectors.invoices import balance, open_invoices
from ringup.billing.selectors.pricing import CatalogPricer
from ringup.billing.selectors.subscriptions import billing_view, current_options
from ringup.billing.services import invoicing
from ringup.catalog.models import Option, TrafficPackage
from ringup.customers.models import Customer
from ringup.engine.invoicing import Line
from ringup.engine.money import ZERO
from ringup.engine.periods import Interval, local_midnight
from ringup.usage.models import RatedCall

from .models import HelpArticle, NotificationSettings

# Rated costs carry six decimals; SQLite adds decimals up in floating point, so sums are
# brought back to them.
MICRO = Decimal("0.000001")
DAY = timedelta(days=1)


def live_subscriptions(customer: Customer, at: datetime) -> QuerySet[Subscription]:
    """The customer's subscriptions that have not ended at ``at`` (a cancellation at the
    end of the period still lies ahead), oldest first."""
    return (
        Subscription.objects.filter(customer=customer)
        .filter(Q(ended_at__isnull=True) | Q(ended_at__gt=at))
        .exclude(status=Subscription.Status.CANCELLED)
        .select_related("plan", "traffic_package")
        .order_by("pk")
    )


def subscription_of(customer: Customer, pk: int) -> Subscription | None:
    """The customer's subscription ``pk``; ``None`` for anyone else's."""
    return (
        Subscription.objects.filter(customer=customer, pk=pk)
        .select_related("plan", "traffic_package")
        .first()
    )


@dataclass(frozen=True)
class Service:
    """One subscription as the customer sees it."""

    subscription: Subscription
    options: list[Option]
    addable: list[Option]
    packages: list[TrafficPackage]
    monthly_total: Decimal
    currency: str
    interval: Interval
    trial_days_left: int | None
    period_start: datetime | None
    period_end: datetime | None

    @property
    def is_trial(self) -> bool:
        return self.trial_days_left is not None

    @property
    def cancels_at(self) -> datetime | None:
        return self.subscription.ended_at

    @property
    def trial_expired(self) -> bool:
        """The trial ended without the customer deciding to pay: paused until they do."""
        sub = self.subscription
        return (
            sub.status == Subscription.Status.SUSPENDED
            and sub.trial_ends_at is not None
            and not sub.trial_converts
        )


def service(subscription: Subscription, at: datetime) -> Service:
    settings = billing_settings()
    view = billing_view(subscription, since=at, zone=settings.zone)
    config = view.history.at(at) or view.history.current
    paid = view.period_at(at)
    interval = paid[1] if paid else Interval(subscription.period)
    quote = CatalogPricer().quote(config, interval)
    codes = current_options(subscription)
    offered = list(subscription.plan.options.order_by("sort_order", "name"))
    trial_left = None
    if subscription.status == Subscription.Status.TRIALING and subscription.trial_ends_at:
        trial_left = max(0, math.ceil((subscription.trial_ends_at - at) / DAY))
    return Service(
        subscription=subscription,
        options=[option for option in offered if option.code in codes],
        addable=[option for option in offered if option.code not in codes],
        packages=list(subscription.plan.traffic_packages.order_by("minutes")),
        monthly_total=quote.monthly_total,
        currency=quote.currency,
        interval=interval,
        trial_days_left=trial_left,
        period_start=paid[0].start if paid else None,
        period_end=paid[0].end if paid else None,
    )


@dataclass(frozen=True)
class NextInvoice:
    """The invoice the bill run will issue for the period under way (the first paid
    period, during a trial), as the subscription stands now."""

    subscription_id: int
    period_start: datetime
    period_end: datetime
    issued_at: datetime
    currency: str
    lines: tuple[Line, ...]
    net: Decimal
    vat: Decimal
    total: Decimal


def next_invoice(subscription: Subscription, at: datetime) -> NextInvoice | None:
    """The coming invoice of ``subscription``, computed by the bill run's own draft
    computation (nothing is written); ``None`` when no further invoice is due or the
    configuration cannot be priced.

    The draft is the one ``ringup bill`` would write at the end of the period if nothing
    changed before then: the same fees, prorations, calls so far, credits and VAT.
    """
    draft = invoicing.upcoming_invoice(subscription, at=at)
    if draft is None:
        return None
    return NextInvoice(
        subscription_id=subscription.pk,
        period_start=draft.period.start,
        period_end=draft.period.end,
        issued_at=draft.issued_at,
        currency=draft.currency,
        lines=tuple(draft.lines),
        net=draft.totals.net,
        vat=draft.totals.vat,
        total=draft.totals.total,
    )


@dataclass(frozen=True)
class Account:
    """The customer's money position: the ledger balance and the invoices still open."""

    balance: Decimal
    owed_invoices: list
    currency: str

    @property
    def owes(self) -> bool:
        return self.balance > 0

    @property
    def credit(self) -> Decimal:
        return -self.balance if self.balance < 0 else ZERO


def account(customer: Customer) -> Account:
    currency = (
        Invoice.objects.filter(customer=customer).values_list("currency", flat=True).first()
        or "RUB"
    )
    return Account(
        balance=balance(customer.pk),
        owed_invoices=open_invoices([customer.pk]),
        currency=currency,
    )


def invoices_of(customer: Customer) -> QuerySet[Invoice]:
    """The customer's issued invoices, newest first (drafts are the operator's business
    until they are finalised)."""
    return (
        Invoice.objects.filter(customer=customer, status=Invoice.Status.FINALISED)
        .select_related("subscription__plan")
        .order_by("-issued_at", "-id")
    )


def invoice_of(customer: Customer, pk: int) -> Invoice | None:
    """The customer's issued invoice ``pk``; ``None`` for a draft or anyone else's."""
    return (
        invoices_of(customer)
        .prefetch_related("lines", "credit_notes")
        .select_related("customer")
        .filter(pk=pk)
        .first()
    )


# Usage ---------------------------------------------------------------------------------


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return (first + timedelta(days=32)).replace(day=1)


def previous_months(today: date, count: int) -> list[date]:
    """The first days of this month and the ``count - 1`` before it, newest first."""
    months = [month_start(today)]
    while len(months) < count:
        months.append(month_start(months[-1] - DAY))
    return months


def month_bounds(first: date) -> tuple[datetime, datetime]:
    """``[start, end)`` of the month starting ``first``, local midnights in UTC."""
    zone = billing_settings().zone
    return local_midnight(first, zone), local_midnight(next_month(first), zone)


def calls_of(customer: Customer, since: datetime, until: datetime) -> QuerySet[RatedCall]:
    """The customer's calls that started in ``[since, until)``, newest first."""
    return RatedCall.objects.filter(customer=customer, start__gte=since, start__lt=until).order_by(
        "-start", "-pk"
    )


@dataclass(frozen=True)
class DestinationUsage:
    description: str
    calls: int
    seconds: int
    cost: Decimal

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.seconds) / 60).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class UsageSummary:
    destinations: list[DestinationUsage]

    @property
    def calls(self) -> int:
        return sum(row.calls for row in self.destinations)

    @property
    def seconds(self) -> int:
        return sum(row.seconds for row in self.destinations)

    @property
    def minutes(self) -> Decimal:
        return (Decimal(self.seconds) / 60).quantize(Decimal("0.1"))

    @property
    def cost(self) -> Decimal:
        return sum((row.cost for row in self.destinations), ZERO)


def usage_summary(customer: Customer, since: datetime, until: datetime) -> UsageSummary:
    """Answered, rated calls of ``[since, until)`` grouped by destination, costliest
    first, at their rated cost (before a traffic package's included minutes)."""
    rows = (
        calls_of(customer, since, until)
        .filter(reason="", billed_seconds__gt=0)
        .order_by()
        .values("description")
        .annotate(calls=Count("pk"), seconds=Sum("billed_seconds"), cost=Sum("cost"))
    )
    groups = [
        DestinationUsage(
            description=row["description"] or "Other",
            calls=row["calls"],
            seconds=row["seconds"] or 0,
            cost=Decimal(row["cost"] or 0).quantize(MICRO),
        )
        for row in rows
    ]
    groups.sort(key=lambda group: (-group.cost, group.description))
    return UsageSummary(groups)


# Profile and help ----------------------------------------------------------------------


def notification_settings(customer: Customer) -> NotificationSettings:
    """The customer's e-mail choices; the defaults when they never saved any."""
    found = NotificationSettings.objects.filter(customer=customer).first()
    return found or NotificationSettings(customer=customer)


def help_articles(language: str) -> QuerySet[HelpArticle]:
    return HelpArticle.objects.filter(published=True, language=language)


def help_article(language: str, slug: str) -> HelpArticle | None:
    return help_articles(language).filter(slug=slug).first()
