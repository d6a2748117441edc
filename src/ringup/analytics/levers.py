"""ARPU levers: where the next ruble of ARPU is (docs/arpu-levers.md).

Three lists of paying customers, each entry with the figures that justify it:

* **step-up**: on the tier's cheapest plan and talking more than their minute bundle
  includes, so a bigger bundle costs them about what the extra minutes cost now;
* **attach gap**: without the add-on most of their tier's paying peers hold;
* **at risk**: high churn risk and high lifetime value (``customers.CustomerScore``).

Each list carries segment conditions that express the lever, so the segment made from it
stays a rule (tomorrow's heavy caller joins it); the actions turn a list into that
segment, a draft mailing to it, or one follow-up task per listed customer.
"""

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from babel.numbers import format_decimal
from django.db import transaction
from django.db.models import Count, Exists, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ringup.billing.models import Subscription, SubscriptionChange, SubscriptionOption
from ringup.catalog.models import Option, Plan, TrafficPackage
from ringup.catalog.models import Segment as Tier
from ringup.customers.models import CustomerScore
from ringup.engine.money import format_money, quantize
from ringup.marketing.engagement.models import FollowUpTask
from ringup.marketing.engagement.services.tasks import RuleTask, tasks_from_rule
from ringup.marketing.mailings.models import Mailing, Template, TemplateVariant
from ringup.marketing.segments.models import Segment
from ringup.marketing.segments.services import create_segment, update_segment
from ringup.usage.models import RatedCall

# Paying means a paid subscription that still gives service: trials are not revenue yet.
PAID = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE)
# Usage is the monthly average of the last three 30-day months, so one busy week does
# not make a heavy caller; a subscription younger than that is not judged yet.
WINDOW_DAYS = 90
WINDOW_MONTHS = 3
# "Cheaper or nearly so": the bigger bundle may cost at most 10 % more than the customer
# pays now for the same minutes; a dearer one is a hard sell, not a lever.
NEARLY = Decimal("1.10")
# A peer favourite: among the two most held add-ons of the tier, held by at least a
# quarter of its paying customers and by at least three of them (no trend from one firm).
FAVOURITES_PER_TIER = 2
MIN_ATTACH_RATE = Decimal("0.25")
MIN_HOLDERS = 3
# "High" churn risk and "high" value are relative unless the page asks for figures: the
# riskiest quarter (upper quartile of stored risks) worth more than half the base (median
# CLV). A base churning 2 % a month has no 30 % customers, yet its riskiest quarter is where
# retention pays; and risk falls with tenure while CLV grows with it, so two upper quartiles
# rarely meet.
RISK_STEP = Decimal("0.001")
CLV_STEP = Decimal(1000)
TASK_DUE_DAYS = 3
CENT = Decimal("0.01")

STEP_UP, ATTACH_GAP, AT_RISK = "step-up", "attach-gap", "at-risk"
TITLES = {
    STEP_UP: "plan step-up",
    ATTACH_GAP: "add-on attach gaps",
    AT_RISK: "high value at risk",
}


@dataclass(frozen=True)
class StepUp:
    """A heavy caller on the cheapest plan and the bundle that fits them; money is per
    month in ``currency``: ``bill_now`` = bundle fee + extra minutes at their average
    price now, ``bill_with_step`` the same minutes with ``step``."""

    customer_id: int
    customer: str
    plan: str
    plan_code: str
    currency: str
    minutes: int
    included: int
    bundle: str
    step: str
    step_minutes: int
    step_fee: Decimal
    bundle_fee: Decimal
    extra_minutes_cost: Decimal
    bill_now: Decimal
    bill_with_step: Decimal

    @property
    def mrr_gain(self) -> Decimal:
        return self.step_fee - self.bundle_fee


@dataclass(frozen=True)
class AttachGap:
    """A paying customer without their tier's favourite add-on ``option``, which
    ``holders`` of the tier's ``peers`` paying customers hold; ``mrr_gain`` is its monthly
    fee for this customer (per employee when the option is)."""

    customer_id: int
    customer: str
    tier: str
    plan: str
    option: str
    option_name: str
    holders: int
    peers: int
    currency: str
    mrr_gain: Decimal

    @property
    def attach_rate(self) -> Decimal:
        return Decimal(self.holders) / Decimal(self.peers)


@dataclass(frozen=True)
class AtRisk:
    """A paying customer likely to leave next month whose remaining lifetime is worth a
    lot; ``at_stake`` = churn risk × CLV, the value expected to be lost."""

    customer_id: int
    customer: str
    tier: str
    churn_risk: Decimal
    clv: Decimal
    currency: str

    @property
    def at_stake(self) -> Decimal:
        return quantize(self.churn_risk * self.clv, self.currency)


@dataclass(frozen=True)
class Lever:
    """One list: its entries (best first), the segment conditions expressing it, and the
    thresholds it was computed with (shown on the page)."""

    key: str
    entries: list
    conditions: dict
    at: datetime
    thresholds: dict = field(default_factory=dict)

    @property
    def customer_ids(self) -> list[int]:
        return list(dict.fromkeys(entry.customer_id for entry in self.entries))

    @property
    def segment_name(self) -> str:
        return f"ARPU lever: {TITLES[self.key]}"


def _leaf(name: str, op: str, value) -> dict:
    return {"field": name, "op": op, "value": value}


def paying_subscriptions(at: datetime):
    """Subscriptions that are paid for and give service at ``at``."""
    return Subscription.objects.filter(status__in=PAID, started_at__lte=at).filter(
        Q(ended_at__isnull=True) | Q(ended_at__gt=at)
    )


# ---------------------------------------------------------------- step-up


def cheapest_plans() -> dict[str, Plan]:
    """Each tier's cheapest public plan, in the order the ``on_cheapest_plan_days``
    segment condition uses (fee, then sort order, then id)."""
    cheapest: dict[str, Plan] = {}
    for plan in Plan.objects.filter(is_public=True).order_by("monthly_fee", "sort_order", "pk"):
        cheapest.setdefault(plan.segment, plan)
    return cheapest


def _bundles(plans) -> dict[int, list[dict]]:
    offered: dict[int, list[dict]] = {plan.pk: [] for plan in plans}
    rows = TrafficPackage.objects.filter(plans__in=plans).values(
        "plans", "code", "name", "minutes", "monthly_fee"
    )
    for row in rows.order_by("minutes", "monthly_fee"):
        offered[row["plans"]].append(row)
    return offered


def _window_sum(at: datetime, summed: str):
    calls = (
        RatedCall.objects.filter(
            customer_id=OuterRef("customer_id"),
            start__gte=at - timedelta(days=WINDOW_DAYS),
            start__lt=at,
        )
        .order_by()
        .values("customer_id")
        .annotate(total=Sum(summed))
        .values("total")
    )
    return Subquery(calls)


def _heavy_callers(at: datetime, cheapest: dict[str, Plan]):
    """The cheapest plans' paying subscriptions, on that plan all the window (as the
    ``on_cheapest_plan_days`` condition), whose talk time in it exceeds three months of
    their bundle (one query)."""
    since = at - timedelta(days=WINDOW_DAYS)
    on_cheapest = Q(pk__in=[])
    for tier, plan in cheapest.items():
        on_cheapest |= Q(customer__tier=tier, plan=plan)
    switched = SubscriptionChange.objects.filter(
        subscription=OuterRef("pk"), to_plan__isnull=False, at__gt=since, at__lte=at
    )
    return (
        paying_subscriptions(at)
        .filter(on_cheapest, started_at__lte=since)
        .exclude(Exists(switched))
        .annotate(
            seconds=Coalesce(_window_sum(at, "duration"), 0),
            cost=_window_sum(at, "cost"),
            included=Coalesce("traffic_package__minutes", 0),
        )
        .filter(seconds__gt=F("included") * 60 * WINDOW_MONTHS)
        .order_by("customer_id", "pk")
        .values(
            "customer_id",
            "customer__name",
            "plan_id",
            "plan__code",
            "plan__name",
            "plan__currency",
            "seconds",
            "cost",
            "included",
            "traffic_package__name",
            "traffic_package__monthly_fee",
        )
    )


def _fitting_step(bundles: list[dict], included: int, minutes: int) -> dict | None:
    """The smallest bigger bundle that covers ``minutes``, else the biggest bigger one."""
    bigger = [b for b in bundles if b["minutes"] > included]
    covering = [b for b in bigger if b["minutes"] >= minutes]
    if covering:
        return covering[0]
    return bigger[-1] if bigger else None


def _step_up(row: dict, bundles: list[dict]) -> StepUp | None:
    currency = row["plan__currency"]
    seconds = Decimal(row["seconds"])
    minutes = int(seconds / 60 / WINDOW_MONTHS)
    step = _fitting_step(bundles, row["included"], minutes)
    if step is None:
        return None
    # The calls' rated cost spread evenly over their minutes: the price of a minute the
    # bundle would cover instead.
    per_minute = (row["cost"] or Decimal(0)) / (seconds / 60)
    monthly = seconds / 60 / WINDOW_MONTHS
    fee_now = row["traffic_package__monthly_fee"] or Decimal(0)
    extra_now = quantize(per_minute * max(monthly - row["included"], 0), currency)
    extra_then = quantize(per_minute * max(monthly - step["minutes"], 0), currency)
    bill_now = fee_now + extra_now
    bill_with_step = step["monthly_fee"] + extra_then
    if bill_with_step > bill_now * NEARLY:
        return None
    return StepUp(
        customer_id=row["customer_id"],
        customer=row["customer__name"],
        plan=row["plan__name"],
        plan_code=row["plan__code"],
        currency=currency,
        minutes=minutes,
        included=row["included"],
        bundle=row["traffic_package__name"] or "",
        step=step["name"],
        step_minutes=step["minutes"],
        step_fee=step["monthly_fee"],
        bundle_fee=fee_now,
        extra_minutes_cost=extra_now,
        bill_now=bill_now,
        bill_with_step=bill_with_step,
    )


def step_ups(*, at: datetime) -> Lever:
    """Customers on their tier's cheapest plan whose last three months of calls fit a
    bigger minute bundle of the plan: it covers their monthly minutes (or as many as the
    biggest bundle holds) for at most 10 % more than their bundle plus extra minutes cost
    now. Biggest monthly gain first."""
    cheapest = cheapest_plans()
    bundles = _bundles(list(cheapest.values()))
    entries, seen = [], set()
    for row in _heavy_callers(at, cheapest):
        if row["customer_id"] in seen:
            continue
        seen.add(row["customer_id"])
        entry = _step_up(row, bundles[row["plan_id"]])
        if entry is not None:
            entries.append(entry)
    entries.sort(key=lambda e: (-e.mrr_gain, -e.minutes, e.customer_id))
    return Lever(STEP_UP, entries, _step_up_conditions(entries), at)


def _step_up_conditions(entries: list[StepUp]) -> dict:
    """Per cheapest plan: paying on it and talking at least as much as its lightest
    listed customer (whole minutes, over the same 90 days)."""
    lightest: dict[str, int] = {}
    for entry in entries:
        code = entry.plan_code
        lightest[code] = min(lightest.get(code, entry.minutes), entry.minutes)
    return {
        "any": [
            {
                "all": [
                    _leaf("plan", "in", [code]),
                    _leaf("status", "in", list(PAID)),
                    _leaf("on_cheapest_plan_days", "gte", WINDOW_DAYS),
                    _leaf(
                        "usage_minutes",
                        "gte",
                        {"days": WINDOW_DAYS, "minutes": minutes * WINDOW_MONTHS},
                    ),
                ]
            }
            for code, minutes in sorted(lightest.items())
        ]
    }


# ---------------------------------------------------------------- attach gaps


def _owned(option_id_ref, at: datetime):
    return SubscriptionOption.objects.filter(
        subscription__customer=OuterRef("customer_id"),
        subscription__status__in=PAID,
        subscription__started_at__lte=at,
        option_id=option_id_ref,
        added_at__lte=at,
    ).filter(
        Q(subscription__ended_at__isnull=True) | Q(subscription__ended_at__gt=at),
        Q(removed_at__isnull=True) | Q(removed_at__gt=at),
    )


def favourites(*, at: datetime) -> list[dict]:
    """Per tier, the add-ons most held by its paying customers (attach rate ≥ 25 %, at
    least three holders, at most two per tier): ``tier, option, holders, peers``."""
    paying = paying_subscriptions(at)
    peers = dict(
        paying.order_by()
        .values("customer__tier")
        .annotate(n=Count("customer_id", distinct=True))
        .values_list("customer__tier", "n")
    )
    held = (
        SubscriptionOption.objects.filter(subscription__in=paying, added_at__lte=at)
        .filter(Q(removed_at__isnull=True) | Q(removed_at__gt=at))
        .order_by()
        .values("subscription__customer__tier", "option_id")
        .annotate(holders=Count("subscription__customer_id", distinct=True))
    )
    ranked: dict[str, list[dict]] = {}
    for row in held:
        tier = row["subscription__customer__tier"]
        rate = Decimal(row["holders"]) / Decimal(peers[tier])
        if row["holders"] >= MIN_HOLDERS and rate >= MIN_ATTACH_RATE:
            ranked.setdefault(tier, []).append(
                {"tier": tier, "option": row["option_id"], "holders": row["holders"]}
            )
    chosen = []
    for tier, rows in sorted(ranked.items()):
        rows.sort(key=lambda r: (-r["holders"], r["option"]))
        chosen += [{**r, "peers": peers[tier]} for r in rows[:FAVOURITES_PER_TIER]]
    return chosen


def _gaps_for(favourite: dict, option: Option, at: datetime) -> list[AttachGap]:
    rows = (
        paying_subscriptions(at)
        .filter(customer__tier=favourite["tier"], plan__in=option.plans.all())
        .exclude(Exists(_owned(option.pk, at)))
        .order_by("customer_id", "pk")
        .values("customer_id", "customer__name", "plan__name", "employees")
    )
    gaps, seen = [], set()
    for row in rows:
        if row["customer_id"] in seen:
            continue
        seen.add(row["customer_id"])
        quantity = row["employees"] if option.per_employee else 1
        gaps.append(
            AttachGap(
                customer_id=row["customer_id"],
                customer=row["customer__name"],
                tier=favourite["tier"],
                plan=row["plan__name"],
                option=option.code,
                option_name=option.name,
                holders=favourite["holders"],
                peers=favourite["peers"],
                currency=option.currency,
                mrr_gain=quantize(option.monthly_fee * quantity, option.currency),
            )
        )
    return gaps


def attach_gaps(*, at: datetime) -> Lever:
    """Paying customers whose plan offers one of their tier's favourite add-ons and who
    lack it; one entry per customer and add-on, the biggest monthly fee first."""
    chosen = favourites(at=at)
    options = Option.objects.in_bulk([f["option"] for f in chosen])
    entries, groups = [], []
    for favourite in chosen:
        option = options[favourite["option"]]
        gaps = _gaps_for(favourite, option, at)
        if not gaps:
            continue
        entries += gaps
        plans = sorted(option.plans.values_list("code", flat=True))
        groups.append(
            {
                "all": [
                    _leaf("tier", "in", [favourite["tier"]]),
                    _leaf("plan", "in", plans),
                    _leaf("status", "in", list(PAID)),
                    _leaf("lacks_option", "eq", option.code),
                ]
            }
        )
    entries.sort(key=lambda e: (-e.attach_rate, -e.mrr_gain, e.customer_id))
    return Lever(ATTACH_GAP, entries, {"any": groups}, at)


# ---------------------------------------------------------------- at risk


def quartile(column: str, quarters: int, step: Decimal) -> Decimal:
    """The stored ``churn_risk`` or ``clv`` that ``quarters``/4 of the scored customers stay
    below (the value at position ⌊n × quarters / 4⌋ in ascending order: 2 the median, 3 the
    upper quartile), rounded down to a multiple of ``step``; 0 with no scores. Two queries."""
    values = CustomerScore.objects.order_by(column).values_list(column, flat=True)
    total = values.count()
    if not total:
        return Decimal(0)
    value = values[total * quarters // 4]
    return (value / step).to_integral_value(rounding=ROUND_FLOOR) * step


def at_risk(*, at: datetime, risk: Decimal | None = None, clv: Decimal | None = None) -> Lever:
    """Paying customers whose stored churn risk is at least ``risk`` (default: the upper
    quartile of stored risks) and CLV at least ``clv`` (default: the median stored CLV); the
    most value at stake first."""
    risk = quartile("churn_risk", 3, RISK_STEP) if risk is None else risk
    clv = quartile("clv", 2, CLV_STEP) if clv is None else clv
    rows = (
        CustomerScore.objects.filter(churn_risk__gte=risk, clv__gte=clv)
        .filter(Exists(paying_subscriptions(at).filter(customer_id=OuterRef("customer_id"))))
        .annotate(stake=F("churn_risk") * F("clv"))
        .order_by("-stake", "customer_id")
        .values("customer_id", "customer__name", "customer__tier", "churn_risk", "clv", "currency")
    )
    entries = [
        AtRisk(
            customer_id=row["customer_id"],
            customer=row["customer__name"],
            tier=row["customer__tier"],
            churn_risk=row["churn_risk"],
            clv=row["clv"],
            currency=row["currency"],
        )
        for row in rows
    ]
    conditions = {
        "all": [
            _leaf("churn_risk", "gte", str(risk)),
            _leaf("clv", "gte", str(clv.quantize(CENT, rounding=ROUND_FLOOR))),
            _leaf("status", "in", list(PAID)),
        ]
    }
    return Lever(AT_RISK, entries, conditions, at, {"risk": risk, "clv": clv})


def lever(key: str, *, at: datetime, risk: Decimal | None = None, clv=None) -> Lever:
    """The list named ``key`` (``step-up``, ``attach-gap``, ``at-risk``) at ``at``."""
    if key == STEP_UP:
        return step_ups(at=at)
    if key == ATTACH_GAP:
        return attach_gaps(at=at)
    if key == AT_RISK:
        return at_risk(at=at, risk=risk, clv=clv)
    raise KeyError(key)


# ---------------------------------------------------------------- actions


def make_segment(found: Lever) -> Segment:
    """The lever's segment, one per lever: created the first time, its conditions brought
    up to date after that (the name is the key)."""
    existing = Segment.objects.filter(name=found.segment_name).first()
    description = (
        f"Made from the ARPU levers page on {timezone.localdate(found.at).isoformat()}: "
        f"{len(found.customer_ids)} customers then."
    )
    if existing is None:
        return create_segment(
            name=found.segment_name, conditions=found.conditions, description=description
        )
    return update_segment(
        existing, name=found.segment_name, conditions=found.conditions, description=description
    )


# Draft wording the marketer edits before activating; the customer's language picks one.
MESSAGES = {
    STEP_UP: {
        "en": (
            "A minute bundle that fits how you call",
            "Hello {{ customer_name }}, in the last months your team talked more than your "
            "plan includes. A bigger minute bundle covers those minutes for a fixed monthly "
            "fee, for about what they cost you one by one now. Change it in your portal: "
            "{{ links.portal }}",
        ),
        "ru": (
            "Пакет минут по вашим звонкам",
            "Здравствуйте, {{ customer_name }}! В последние месяцы ваша команда говорила "
            "больше, чем включено в тариф. Пакет побольше покроет эти минуты за "
            "фиксированную плату — примерно за те же деньги, что вы платите за них сейчас "
            "поминутно. Подключить его можно в личном кабинете: {{ links.portal }}",
        ),
    },
    ATTACH_GAP: {
        "en": (
            "What teams like yours add to their PBX",
            "Hello {{ customer_name }}, most firms of your size on {{ plan }} use an add-on "
            "you do not have yet. See what it does and switch it on in one click in your "
            "portal: {{ links.portal }}",
        ),
        "ru": (
            "Что подключают компании вроде вашей",
            "Здравствуйте, {{ customer_name }}! Большинство компаний вашего масштаба на "
            "тарифе {{ plan }} пользуются опцией, которой у вас пока нет. Узнайте, что она "
            "даёт, и подключите её в один клик в личном кабинете: {{ links.portal }}",
        ),
    },
    AT_RISK: {
        "en": (
            "How is your telephony working for you?",
            "Hello {{ customer_name }}, we would like to know how {{ plan }} serves your "
            "team and what we could do better. Reply to this e-mail and your manager will "
            "call you back.",
        ),
        "ru": (
            "Как вам работается с нашей телефонией?",
            "Здравствуйте, {{ customer_name }}! Нам важно знать, как тариф {{ plan }} "
            "помогает вашей команде и что мы можем сделать лучше. Ответьте на это письмо — "
            "ваш менеджер перезвонит.",
        ),
    },
}


def _template(found: Lever) -> Template:
    template, created = Template.objects.get_or_create(
        name=found.segment_name, defaults={"default_language": "ru"}
    )
    if created:
        for language, (subject, text) in MESSAGES[found.key].items():
            TemplateVariant.objects.create(
                template=template,
                language=language,
                subject=subject,
                text=text,
                html=f'<p style="margin:0 0 12px">{text}</p>',
            )
    return template


@transaction.atomic
def draft_mailing(found: Lever) -> Mailing:
    """A one-off draft mailing to the lever's segment with a draft template; asked again
    while that draft is still a draft, the same mailing (nothing is sent until the
    marketer activates it)."""
    segment = make_segment(found)
    template = _template(found)
    mailing = Mailing.objects.filter(
        segment=segment, template=template, status=Mailing.Status.DRAFT
    ).first()
    if mailing is None:
        mailing = Mailing.objects.create(
            name=found.segment_name,
            kind=Mailing.Kind.ONE_OFF,
            status=Mailing.Status.DRAFT,
            template=template,
            segment=segment,
        )
    return mailing


# ---------------------------------------------------------------- the figures in words


def _language() -> str:
    return translation.to_locale(translation.get_language() or "en")


def _number(value) -> str:
    return format_decimal(value, locale=_language())


def money_text(amount: Decimal, currency: str) -> str:
    """``amount`` as the active language writes money, e.g. ``₽1,800.00``."""
    return format_money(amount, currency, _language())


def justify(entry) -> str:
    """The figures that put ``entry`` on its list, in the active language, e.g. "8 of 10
    smb peers have Call recording; +490.00 ₽ a month"."""
    if isinstance(entry, StepUp):
        return _(
            "talks %(minutes)s min a month, %(included)s included; %(step)s costs "
            "%(gain)s a month more: calls cost %(now)s a month now, %(then)s with it"
        ) % {
            "minutes": _number(entry.minutes),
            "included": _number(entry.included),
            "step": entry.step,
            "gain": money_text(entry.mrr_gain, entry.currency),
            "now": money_text(entry.bill_now, entry.currency),
            "then": money_text(entry.bill_with_step, entry.currency),
        }
    if isinstance(entry, AttachGap):
        return _("%(holders)s of %(peers)s %(tier)s peers have %(option)s; +%(gain)s a month") % {
            "holders": _number(entry.holders),
            "peers": _number(entry.peers),
            "tier": Tier(entry.tier).label,
            "option": entry.option_name,
            "gain": money_text(entry.mrr_gain, entry.currency),
        }
    return _("churn risk %(risk)s %%, CLV %(clv)s: %(stake)s at stake") % {
        "risk": _number((entry.churn_risk * 100).quantize(Decimal("0.1"))),
        "clv": money_text(entry.clv, entry.currency),
        "stake": money_text(entry.at_stake, entry.currency),
    }


def _task_title(entry) -> str:
    if isinstance(entry, StepUp):
        return _("Offer %(product)s to %(customer)s") % {
            "product": entry.step,
            "customer": entry.customer,
        }
    if isinstance(entry, AttachGap):
        return _("Offer %(product)s to %(customer)s") % {
            "product": entry.option_name,
            "customer": entry.customer,
        }
    return _("Call %(customer)s: high value at risk") % {"customer": entry.customer}


def make_tasks(found: Lever, *, at: datetime, assignee_id: int | None = None) -> tuple[int, int]:
    """One follow-up task per listed customer, due in three days, with the figures of
    :func:`justify` as its note; a customer gets one task per lever per calendar month
    however often the button is pressed. Returns (new tasks, listed customers)."""
    month = timezone.localdate(at).strftime("%Y-%m")
    due_on = timezone.localdate(at) + timedelta(days=TASK_DUE_DAYS)
    first = {}
    for entry in found.entries:
        first.setdefault(entry.customer_id, entry)
    wanted = [
        RuleTask(
            customer_id=customer_id,
            key=f"arpu-lever:{found.key}:{customer_id}:{month}",
            reason=FollowUpTask.Reason.MANUAL,
            title=_task_title(entry)[:200],
            due_on=due_on,
            note=justify(entry),
            assignee_id=assignee_id,
        )
        for customer_id, entry in first.items()
    ]
    return tasks_from_rule(wanted, at=at), len(wanted)
