"""The demo operator's history: firms sign up over the months, try their segment's plan,
convert or leave, take options, move between plans, change head-count and churn.

:func:`generate_history` is pure — a catalog description, a size and a seed in, NumPy
arrays out, identical for the same seed — and draws every random quantity as a whole array.
:func:`write_history` stores the result with ``bulk_create`` in one transaction.

In the generated tables times are ``datetime64[s]`` in UTC with ``NaT`` for "not (yet)
happened"; references to other tables and to plans and options are row indices; a negative
integer means NULL.
"""

from calendar import monthrange
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

import numpy as np
from django.db import connection, transaction

from ringup.billing.models import Subscription, SubscriptionChange, SubscriptionOption
from ringup.catalog.models import Option, Plan
from ringup.customers.models import Contact, Customer

from . import names

Table = dict[str, np.ndarray]

DAY = 86_400
MONTH = 2_629_800  # an average month (30.44 days) in seconds
# Later than any real instant, and still safe to add a few years to.
NEVER = np.iinfo(np.int64).max // 4
BATCH_SIZE = 5_000

SEGMENTS = ("micro", "smb", "enterprise")
SOURCES = ("website", "calculator", "advisor", "referral", "promo", "sales", "quote")
LEGAL_FORMS = ("ИП", "ООО", "АО", "ПАО")
SOLE_TRADER = "ИП"  # a person, not a company: the owner is the only contact
COUNTRIES = {"RU": 0.94, "KZ": 0.04, "BY": 0.02}
CONTACT_ROLES = ("Генеральный директор", "Главный бухгалтер", "Системный администратор")
CONTACT_MALE_SHARE = (0.7, 0.2, 0.85)
SOLE_TRADER_ROLE = "Индивидуальный предприниматель"
KINDS = tuple(SubscriptionChange.Kind.values)


@dataclass(frozen=True)
class Behaviour:
    """How the firms of one segment look and behave."""

    share: float  # of sign-ups
    plan: str  # the plan a firm of this segment tries first
    staff_median: float  # head-count is lognormal, clipped to staff_range
    staff_sigma: float
    staff_range: tuple[int, int]
    seat_share: tuple[float, float]  # share of the staff put on the plan, uniform
    extra_numbers: float  # mean numbers beyond the plan's included ones
    legal_forms: tuple[float, ...]  # chances of each of LEGAL_FORMS
    sources: tuple[float, ...]  # chances of each of SOURCES
    english: float  # share preferring English
    contacts: tuple[float, float, float]  # chances of 1, 2 or 3 contacts at a company
    conversion: float  # trials that convert, among verified e-mails
    annual: float  # share prepaying annually
    churn: float  # monthly hazard once paying
    staff_changes: float  # head-count changes per paying month


BEHAVIOUR = {
    "micro": Behaviour(
        share=0.60,
        plan="virtual-number",
        staff_median=1.8,
        staff_sigma=0.6,
        staff_range=(1, 4),
        seat_share=(1.0, 1.0),
        extra_numbers=0.15,
        legal_forms=(0.35, 0.65, 0, 0),
        sources=(0.38, 0.22, 0.1, 0.14, 0.12, 0.02, 0.02),
        english=0.03,
        contacts=(0.7, 0.25, 0.05),
        conversion=0.70,
        annual=0.10,
        churn=0.035,
        staff_changes=0.03,
    ),
    "smb": Behaviour(
        share=0.32,
        plan="office-pbx",
        staff_median=10,
        staff_sigma=0.7,
        staff_range=(4, 80),
        seat_share=(0.7, 1.0),
        extra_numbers=0.6,
        legal_forms=(0.05, 0.9, 0.05, 0),
        sources=(0.28, 0.24, 0.14, 0.12, 0.08, 0.1, 0.04),
        english=0.06,
        contacts=(0.3, 0.45, 0.25),
        conversion=0.73,
        annual=0.18,
        churn=0.02,
        staff_changes=0.08,
    ),
    "enterprise": Behaviour(
        share=0.08,
        plan="contact-centre",
        staff_median=60,
        staff_sigma=0.8,
        staff_range=(20, 600),
        seat_share=(0.3, 0.8),
        extra_numbers=2.5,
        legal_forms=(0, 0.55, 0.3, 0.15),
        sources=(0.12, 0.1, 0.1, 0.08, 0.02, 0.48, 0.1),
        english=0.15,
        contacts=(0.05, 0.35, 0.6),
        conversion=0.82,
        annual=0.30,
        churn=0.01,
        staff_changes=0.1,
    ),
}

SIGNUP_GROWTH = 0.05  # more sign-ups each month than the month before
WEEKEND_SIGNUPS = 0.3  # relative to a working day
VERIFIED = 0.97  # e-mail verified; an unverified account cannot buy
# Chance that a paying subscription would move to another plan if it stays long enough.
MOVES = {
    ("virtual-number", "office-pbx"): 0.10,
    ("office-pbx", "contact-centre"): 0.05,
    ("office-pbx", "virtual-number"): 0.02,
    ("contact-centre", "office-pbx"): 0.02,
}
MOVE_AFTER_MONTHS = 6.0  # mean wait after conversion, beyond a first month
# Share of a plan's subscriptions that take an option; options offered on a plan but not
# listed here use DEFAULT_ATTACH.
ATTACH = {
    ("virtual-number", "call-recording"): 0.35,
    ("virtual-number", "crm-basic"): 0.15,
    ("virtual-number", "missed-call-sms"): 0.25,
    ("office-pbx", "call-recording-pro"): 0.30,
    ("office-pbx", "crm-integration"): 0.40,
    ("office-pbx", "missed-call-sms"): 0.20,
    ("office-pbx", "callback-widget"): 0.25,
    ("contact-centre", "speech-analytics"): 0.25,
    ("contact-centre", "wallboard"): 0.45,
    ("contact-centre", "archive-3y"): 0.30,
    ("contact-centre", "callback-widget"): 0.35,
}
DEFAULT_ATTACH = 0.10
OPTION_AT_START = 0.6  # chosen with the plan; the others come later
OPTION_LATER_MONTHS = 4.0  # mean wait for an option added later
OPTION_DROPPED = 0.2  # options removed again
OPTION_KEPT_MONTHS = 6.0  # mean time until such a removal
MAX_STAFF_CHANGES = 6
PAST_DUE, SUSPENDED = 0.03, 0.01  # shares of the live, paying subscriptions


@dataclass(frozen=True)
class PlanSpec:
    """What the generator needs to know of a catalog plan."""

    code: str
    segment: str
    trial_days: int
    min_employees: int
    max_employees: int
    included_numbers: int
    options: tuple[str, ...]


def plan_specs() -> list[PlanSpec]:
    """The catalog's plans with the options each offers."""
    return [
        PlanSpec(
            code=plan.code,
            segment=plan.segment,
            trial_days=plan.trial_days,
            min_employees=plan.min_employees,
            max_employees=plan.max_employees,
            included_numbers=plan.included_numbers,
            options=tuple(sorted(option.code for option in plan.options.all())),
        )
        for plan in Plan.objects.prefetch_related("options").order_by("code")
    ]


@dataclass(frozen=True)
class History:
    """Generated rows per model; ``plans`` and ``options`` name the codes indices refer to."""

    plans: tuple[str, ...]
    options: tuple[str, ...]
    customers: Table
    contacts: Table
    subscriptions: Table  # row i is customer i's subscription
    subscription_options: Table
    changes: Table

    def tables(self) -> dict[str, Table]:
        return {
            "customers": self.customers,
            "contacts": self.contacts,
            "subscriptions": self.subscriptions,
            "subscription_options": self.subscription_options,
            "changes": self.changes,
        }

    def counts(self) -> dict[str, int]:
        return {name: len(next(iter(table.values()))) for name, table in self.tables().items()}


def months_before(day: date, months: int) -> date:
    """The same day ``months`` earlier, or that month's last day if it is shorter."""
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, monthrange(year, month0 + 1)[1]))


def generate_history(
    plans: Sequence[PlanSpec], *, customers: int, months: int, seed: int, until: date, tz: tzinfo
) -> History:
    """``customers`` firms signing up during the ``months`` before ``until`` (local midnight
    in ``tz``, exclusive), each with one subscription and its changes up to ``until``."""
    rng = np.random.default_rng(seed)
    by_code = {plan.code: i for i, plan in enumerate(plans)}
    option_codes = tuple(sorted({code for plan in plans for code in plan.options}))
    end = _epoch(until, tz)
    behaviour = [BEHAVIOUR[segment] for segment in SEGMENTS]

    def per_segment(values):
        return np.asarray(values)[segment]

    def per_plan(attribute):
        return np.array([getattr(plan, attribute) for plan in plans])

    # Firms: segment, size and sign-up time; rows are in sign-up order.
    n = customers
    registered = np.sort(_signup_times(rng, n, months_before(until, months), until, tz))
    segment = rng.choice(len(SEGMENTS), size=n, p=[b.share for b in behaviour])
    low, high = per_segment([b.staff_range for b in behaviour]).T
    staff = rng.lognormal(
        np.log(per_segment([b.staff_median for b in behaviour])),
        per_segment([b.staff_sigma for b in behaviour]),
    )
    staff = np.clip(np.rint(staff), low, high).astype(np.int64)

    # The subscription starts as a trial of the segment's plan minutes after sign-up.
    plan_rank = np.array([SEGMENTS.index(plan.segment) for plan in plans])
    min_seats, max_seats = per_plan("min_employees"), per_plan("max_employees")
    first_plan = per_segment([by_code[b.plan] for b in behaviour])
    share_low, share_high = per_segment([b.seat_share for b in behaviour]).T
    seats = np.ceil(staff * rng.uniform(share_low, share_high)).astype(np.int64)
    seats = np.clip(seats, min_seats[first_plan], max_seats[first_plan])
    verified = rng.random(n) < VERIFIED
    verified_at = np.minimum(registered + 60 + _seconds(rng.exponential(900, n)), end - 1)
    started = np.minimum(registered + 60 + _seconds(rng.exponential(1200, n)), end - 1)
    trial_end = started + per_plan("trial_days")[first_plan] * DAY

    # Paying life: a monthly hazard, cancelling at the end of a paid period.
    converted = verified & (rng.random(n) < per_segment([b.conversion for b in behaviour]))
    annual = rng.random(n) < per_segment([b.annual for b in behaviour])
    hazard = per_segment([b.churn for b in behaviour])
    paid_months = np.ceil(rng.exponential(-1 / np.log1p(-hazard)))
    paid_months = np.where(annual, np.ceil(paid_months / 12) * 12, paid_months)
    ended = np.where(converted, trial_end + _months(paid_months), trial_end)
    horizon = np.minimum(ended, end)

    # At most one move to another plan, some months after conversion.
    move_odds = np.zeros((len(plans), len(plans)))
    for (source, target), chance in MOVES.items():
        move_odds[by_code[source], by_code[target]] = chance
    move_odds[np.diag_indices(len(plans))] = 1 - move_odds.sum(axis=1)
    target = _pick(rng, move_odds[first_plan])
    move_at = trial_end + _months(1 + rng.exponential(MOVE_AFTER_MONTHS, n))
    moved = converted & (target != first_plan) & (move_at < horizon)
    plan = np.where(moved, target, first_plan)

    # Head-count drifts while paying on the first plan.
    on_first_plan_until = np.where(moved, move_at, horizon)
    paying_span = np.where(converted, np.maximum(on_first_plan_until - trial_end, 0), 0)
    staff_changes, seats_before_move = _staff_walk(
        rng,
        seats,
        low=min_seats[first_plan],
        high=max_seats[first_plan],
        begin=trial_end,
        span=paying_span,
        rate=per_segment([b.staff_changes for b in behaviour]),
    )

    # A move resizes the team to fit the new plan: up when growing, down when shrinking.
    upgrade = plan_rank[plan] > plan_rank[first_plan]
    resize = np.exp(np.where(upgrade, rng.normal(0.4, 0.3, n), rng.normal(-0.5, 0.3, n)))
    seats_after_move = np.clip(
        np.rint(seats_before_move * resize).astype(np.int64), min_seats[plan], max_seats[plan]
    )
    seats_now = np.where(moved, seats_after_move, seats_before_move)

    items = _options(
        rng,
        plans,
        option_codes,
        first_plan=first_plan,
        plan=plan,
        moved=moved,
        started=started,
        move_at=move_at,
        horizon=horizon,
        ended=ended,
    )

    status = np.where(ended < end, "cancelled", np.where(trial_end >= end, "trialing", "active"))
    trouble = rng.random(n)
    live = status == "active"
    status[live & (trouble < PAST_DUE)] = "past_due"
    status[live & (trouble >= PAST_DUE) & (trouble < PAST_DUE + SUSPENDED)] = "suspended"

    paying = converted & (trial_end < end)
    cancelled = ended < end
    changes = [
        _event("started", started, to_plan=first_plan, to_employees=seats),
        _event("converted", trial_end, to_plan=first_plan, keep=paying),
        staff_changes,
        *(
            _event(
                kind,
                move_at,
                from_plan=first_plan,
                to_plan=plan,
                from_employees=seats_before_move,
                to_employees=seats_after_move,
                keep=moved & (upgrade == (kind == "upgrade")),
            )
            for kind in ("upgrade", "downgrade")
        ),
        _event(
            "option_added",
            items["added_at"],
            subscription=items["subscription"],
            option=items["option"],
        ),
        _event(
            "option_removed",
            items["removed_at"],
            subscription=items["subscription"],
            option=items["option"],
            keep=items["removed_at"] < np.minimum(ended, end)[items["subscription"]],
        ),
        _event("cancelled", ended, from_plan=plan, from_employees=seats_now, keep=cancelled),
    ]
    changes = {key: np.concatenate([c[key] for c in changes]) for key in changes[0]}
    order = np.lexsort((changes["kind"], changes["subscription"], changes["at"]))
    changes = {key: values[order] for key, values in changes.items()}
    changes["kind"] = np.array(KINDS)[changes["kind"]]
    changes["at"] = _instants(changes["at"], end)
    items["added_at"] = _instants(items["added_at"], end)
    items["removed_at"] = _instants(items["removed_at"], end)

    firms, contacts = _firms(rng, segment, behaviour)
    return History(
        plans=tuple(p.code for p in plans),
        options=option_codes,
        customers={
            **firms,
            # The segment the firm is in now: one that moved up a plan has grown.
            "tier": np.array(SEGMENTS)[plan_rank[plan]],
            "employees": np.maximum(staff, seats_now),
            "language": np.where(
                rng.random(n) < per_segment([b.english for b in behaviour]), "en", "ru"
            ),
            "source": np.array(SOURCES)[_pick(rng, per_segment([b.sources for b in behaviour]))],
            "registered_at": _instants(registered, end),
            "email_verified_at": _instants(np.where(verified, verified_at, NEVER), end),
        },
        contacts=contacts,
        subscriptions={
            "customer": np.arange(n),
            "plan": plan,
            "status": status,
            "period": np.where(annual, "annual", "monthly"),
            "employees": seats_now,
            "numbers": per_plan("included_numbers")[plan]
            + rng.poisson(per_segment([b.extra_numbers for b in behaviour])),
            "started_at": _instants(started, end),
            # A running trial's end is still ahead; every other time is in the past.
            "trial_ends_at": trial_end.astype("datetime64[s]"),
            # Paid periods start at the first local midnight after the trial.
            "billing_starts_on": _first_midnights(trial_end, months_before(until, months), tz),
            "ended_at": _instants(ended, end),
        },
        subscription_options=items,
        changes=changes,
    )


def _seconds(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int64)


def _months(values: np.ndarray) -> np.ndarray:
    return (values * MONTH).astype(np.int64)


def _epoch(day: date, tz: tzinfo) -> int:
    return int(datetime.combine(day, time(), tzinfo=tz).timestamp())


def _instants(seconds: np.ndarray, end: int) -> np.ndarray:
    """UTC instants, with NaT for those not reached by ``end``."""
    instants = seconds.astype("datetime64[s]")
    instants[seconds >= end] = np.datetime64("NaT")
    return instants


def _pick(rng: np.random.Generator, odds: np.ndarray) -> np.ndarray:
    """One column index per row of ``odds``, each row a probability distribution."""
    cumulative = np.cumsum(odds, axis=1)
    chosen = (rng.random(len(odds))[:, None] * cumulative[:, -1:] > cumulative).sum(axis=1)
    return np.minimum(chosen, odds.shape[1] - 1)


def _first_midnights(seconds: np.ndarray, first: date, tz: tzinfo) -> np.ndarray:
    """The local date of the first midnight at or after each instant (``first`` or later)."""
    days = int((seconds.max() - _epoch(first, tz)) // DAY) + 2
    midnights = np.array([_epoch(first + timedelta(d), tz) for d in range(days)])
    return np.datetime64(first, "D") + np.searchsorted(midnights, seconds, side="left")


def _signup_times(rng: np.random.Generator, n: int, first: date, until: date, tz: tzinfo):
    days = (until - first).days
    midnights = np.array([_epoch(first + timedelta(d), tz) for d in range(days)])
    weekday = (first.weekday() + np.arange(days)) % 7
    weight = (1 + SIGNUP_GROWTH) ** (np.arange(days) * DAY / MONTH)
    weight *= np.where(weekday >= 5, WEEKEND_SIGNUPS, 1.0)
    day = rng.choice(days, size=n, p=weight / weight.sum())
    # Local office hours, busiest after lunch.
    clock = np.clip(rng.normal(13.5, 3.0, n), 8, 22) * 3600
    return midnights[day] + _seconds(clock)


def _staff_walk(rng, seats, *, low, high, begin, span, rate) -> tuple[Table, np.ndarray]:
    """Head-count changes during ``span`` seconds from ``begin``: a random walk of
    multiplicative steps, ``rate`` a month on average, kept within [``low``, ``high``].

    Returns the "employees" change rows and each subscription's seats after the walk.
    """
    steps = np.minimum(rng.poisson(rate * span / MONTH), MAX_STAFF_CHANGES)
    sub = np.repeat(np.arange(len(seats)), steps)
    at = begin[sub] + (rng.random(len(sub)) * span[sub]).astype(np.int64)
    at = at[np.lexsort((at, sub))]  # sub is already grouped: this orders each walk in time
    first = np.cumsum(steps) - steps
    log_total = np.cumsum(rng.normal(0.03, 0.25, len(sub)))
    # Running sums restart with each subscription's walk.
    log_growth = log_total - np.repeat(np.concatenate(([0.0], log_total))[first], steps)
    after = np.clip(np.rint(seats[sub] * np.exp(log_growth)).astype(np.int64), low[sub], high[sub])
    before = np.where(np.arange(len(sub)) == first[sub], seats[sub], np.roll(after, 1))
    final = seats.copy()
    walked = steps > 0
    final[walked] = after[(first + steps - 1)[walked]]
    changes = _event(
        "employees",
        at,
        subscription=sub,
        from_employees=before,
        to_employees=after,
        keep=before != after,
    )
    return changes, final


def _event(kind: str, at: np.ndarray, *, subscription=None, keep=None, **columns) -> Table:
    """Rows of SubscriptionChange; ``subscription`` defaults to the row number."""
    length = len(at)
    event = {
        "subscription": np.arange(length) if subscription is None else subscription,
        "kind": np.full(length, KINDS.index(kind)),
        "at": at,
        **{
            name: columns.get(name, np.full(length, -1))
            for name in ("from_plan", "to_plan", "from_employees", "to_employees", "option")
        },
    }
    return event if keep is None else {name: values[keep] for name, values in event.items()}


def _options(
    rng: np.random.Generator,
    plans: Sequence[PlanSpec],
    option_codes: tuple[str, ...],
    *,
    first_plan: np.ndarray,
    plan: np.ndarray,
    moved: np.ndarray,
    started: np.ndarray,
    move_at: np.ndarray,
    horizon: np.ndarray,
    ended: np.ndarray,
) -> Table:
    """SubscriptionOption rows: each option a plan offers is taken at its attach rate."""
    offered = np.zeros((len(plans), len(option_codes)), dtype=bool)
    attach = np.zeros(offered.shape)
    for p, spec in enumerate(plans):
        for code in spec.options:
            offered[p, option_codes.index(code)] = True
            attach[p, option_codes.index(code)] = ATTACH.get((spec.code, code), DEFAULT_ATTACH)

    # A stint is a time on one plan: every subscription's first, and a second after a move.
    n, second = len(plan), np.flatnonzero(moved)
    stint_sub = np.concatenate((np.arange(n), second))
    stint_plan = np.concatenate((first_plan, plan[second]))
    stint_begin = np.concatenate((started, move_at[second]))
    stint_stop = np.concatenate((np.where(moved, move_at, horizon), horizon[second]))
    stint, option = np.nonzero(offered[stint_plan])
    sub, first, count = stint_sub[stint], stint < n, len(stint)

    begin = stint_begin[stint]
    later = begin + _months(rng.exponential(OPTION_LATER_MONTHS, count))
    added = np.where(rng.random(count) < OPTION_AT_START, begin, later)
    taken = (rng.random(count) < attach[stint_plan[stint], option]) & (added < stint_stop[stint])
    dropped = rng.random(count) < OPTION_DROPPED
    kept_until = added + DAY + _months(rng.exponential(OPTION_KEPT_MONTHS, count))
    removed = np.where(dropped, kept_until, NEVER)
    # An option the new plan does not offer ends with the move; one it offers carries on
    # and is not taken a second time.
    offered_after_move = offered[plan[sub], option]
    removed = np.where(first & moved[sub] & ~offered_after_move, move_at[sub], removed)
    removed = np.minimum(removed, ended[sub])
    key = sub * len(option_codes) + option
    carried = taken & first & moved[sub] & offered_after_move & (removed > move_at[sub])
    taken &= first | ~np.isin(key, key[carried])

    rows = np.flatnonzero(taken)
    rows = rows[np.lexsort((added[rows], sub[rows]))]
    return {
        "subscription": sub[rows],
        "option": option[rows],
        "quantity": np.ones(len(rows), dtype=np.int64),
        "added_at": added[rows],
        "removed_at": removed[rows],
    }


def _firms(
    rng: np.random.Generator, segment: np.ndarray, behaviour: list[Behaviour]
) -> tuple[Table, Table]:
    """Names, e-mails, phones and countries of the firms, and their contacts: a sole trader
    is their own contact; a company has a director, then an accountant, then an IT person."""
    n = len(segment)
    form_odds = np.array([b.legal_forms for b in behaviour])
    form = np.array(LEGAL_FORMS)[_pick(rng, form_odds[segment])]
    sole = form == SOLE_TRADER
    country = rng.choice(list(COUNTRIES), size=n, p=list(COUNTRIES.values()))
    contact_odds = np.array([b.contacts for b in behaviour])
    count = np.where(sole, 1, 1 + _pick(rng, contact_odds[segment]))
    customer = np.repeat(np.arange(n), count)
    owner = np.cumsum(count) - count
    position = np.arange(len(customer)) - owner[customer]
    person = names.people(rng, rng.random(len(customer)) < np.array(CONTACT_MALE_SHARE)[position])
    firm, slug = names.firm_names(rng, form)
    mailbox = rng.choice(names.COMPANY_MAILBOXES, size=n)
    personal = rng.choice(names.PERSONAL_MAIL_DOMAINS, size=n)

    full, first_lat, surname_lat = person["full"], person["first_lat"], person["surname_lat"]
    name, email, domain = [], [], []
    # The running number makes every address unique.
    for i, (is_sole, head) in enumerate(zip(sole.tolist(), owner.tolist(), strict=True)):
        if is_sole:
            name.append(f"{SOLE_TRADER} {full[head]}")
            email.append(f"{surname_lat[head]}.{first_lat[head]}{i + 1}@{personal[i]}")
            domain.append("")
        else:
            name.append(firm[i])
            domain.append(f"{slug[i]}-{i + 1}.{names.TOP_LEVEL_DOMAINS[country[i]]}")
            email.append(f"{mailbox[i]}@{domain[-1]}")
    contact_email = [
        f"{first_lat[row][0]}.{surname_lat[row]}@{domain[i]}" if domain[i] else email[i]
        for row, i in enumerate(customer.tolist())
    ]
    firms = {
        "name": np.array(name),
        "is_company": ~sole,
        "vertical": _verticals(n),
        "email": np.array(email),
        "phone": names.phone_numbers(rng, country, names.CITY_PREFIXES),
        "country": country,
    }
    contacts = {
        "customer": customer,
        "name": np.array(full),
        "role": np.where(sole[customer], SOLE_TRADER_ROLE, np.array(CONTACT_ROLES)[position]),
        "email": np.array(contact_email),
        "phone": names.phone_numbers(rng, country[customer], names.MOBILE_PREFIXES),
        "is_primary": position == 0,
    }
    return firms, contacts


# Lines of business of the demo firms (the sweet-spot report compares them), with odds.
VERTICALS = {
    "retail": 0.2,
    "services": 0.18,
    "it": 0.12,
    "logistics": 0.1,
    "healthcare": 0.1,
    "real_estate": 0.08,
    "hospitality": 0.07,
    "manufacturing": 0.06,
    "finance": 0.05,
    "education": 0.04,
}


def _verticals(n: int) -> np.ndarray:
    # A generator of its own: the history's stream, and so every other column, is the
    # same as without verticals.
    own = np.random.default_rng(n)
    return own.choice(list(VERTICALS), size=n, p=list(VERTICALS.values()))


@transaction.atomic
def write_history(history: History, *, batch_size: int = BATCH_SIZE) -> dict[str, int]:
    """Insert ``history`` into the catalog's plans and options; returns rows per table."""
    plan_ids = _ids(Plan, history.plans)
    option_ids = _ids(Option, history.options)
    customer_ids = _insert(Customer, history.customers, batch_size)
    _insert(Contact, _linked(history.contacts, customer=customer_ids), batch_size)
    subscription_ids = _insert(
        Subscription,
        _linked(history.subscriptions, customer=customer_ids, plan=plan_ids),
        batch_size,
    )
    _insert(
        SubscriptionOption,
        _linked(history.subscription_options, subscription=subscription_ids, option=option_ids),
        batch_size,
    )
    _insert(
        SubscriptionChange,
        _linked(
            history.changes,
            subscription=subscription_ids,
            from_plan=plan_ids,
            to_plan=plan_ids,
            option=option_ids,
        ),
        batch_size,
    )
    _analyse()
    return history.counts()


def _analyse() -> None:
    # PostgreSQL plans from table statistics, which a bulk load leaves at "empty" until
    # autovacuum comes by: the demo's next queries (segments, follow-up rules) would then
    # nest loops over 200,000 customers. SQLite plans without them.
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")


def _ids(model, codes: tuple[str, ...]) -> np.ndarray:
    pks = dict(model.objects.filter(code__in=codes).values_list("code", "pk"))
    return np.array([pks[code] for code in codes], dtype=np.int64)


def _linked(table: Table, **references: np.ndarray) -> Table:
    """``table`` with each row-index column ``name`` replaced by ``name_id``, the pk."""
    linked = dict(table)
    for name, pks in references.items():
        # Index -1 picks the appended -1: no reference, NULL.
        linked[f"{name}_id"] = np.append(pks, -1)[linked.pop(name)]
    return linked


def _insert(model, table: Table, batch_size: int) -> np.ndarray:
    """``bulk_create`` the rows of ``table`` a batch at a time; returns their pks in order.

    Building model instances a batch at a time keeps memory flat for large histories.
    """
    columns = list(table)
    pks = []
    for start in range(0, len(table[columns[0]]), batch_size):
        values = [_python(table[column][start : start + batch_size]) for column in columns]
        batch = [model(**dict(zip(columns, row, strict=True))) for row in zip(*values, strict=True)]
        model.objects.bulk_create(batch, batch_size=batch_size)
        pks.extend(obj.pk for obj in batch)
    return np.array(pks, dtype=np.int64)


def _python(column: np.ndarray) -> list:
    """Database-ready values: dates, aware datetimes, and None for NaT and negative
    integers."""
    if column.dtype == np.dtype("datetime64[D]"):
        return column.astype(object).tolist()
    if column.dtype.kind == "M":
        return [
            None if value is None else value.replace(tzinfo=UTC)
            for value in column.astype("datetime64[us]").tolist()
        ]
    values = column.tolist()
    if column.dtype.kind == "i" and (column < 0).any():
        return [None if value < 0 else value for value in values]
    return values
