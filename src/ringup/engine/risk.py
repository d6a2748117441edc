"""Risk signals on prospects and customers, each explained with its figures.

Inputs are plain facts, so the same rules flag a prospect (from the bill analysis) and a
customer (from rated calls and billing): :class:`TrafficFacts` about calls and
:class:`AccountFacts` about the account; a rule whose facts are unknown (None) is skipped.
Thresholds are one dataclass (:class:`RiskThresholds`) with the defaults below; the
operator overrides any of them.

The rules (docs/sales-formulas.md, "Risk signals", works an example of each):

=========================  ==============================================================
code                       raised when
=========================  ==============================================================
``dialer_short_acd``       calls ≥ ``min_calls`` and ACD ≤ ``dialer_acd_seconds``
``dialer_short_calls``     calls ≥ ``min_calls`` and (unanswered + answered calls under 10
                           billable seconds) / calls ≥ ``dialer_short_share``
``dialer_call_rate``       calls ≥ ``min_calls`` and calls / (peak channels × active hours)
                           ≥ ``dialer_calls_per_channel_hour``
``idle_dids``              DIDs ≥ ``min_dids`` and the share of DIDs with fewer than
                           ``did_low_minutes`` inbound minutes a month ≥ ``did_low_share``
``below_cost_to_serve``    margin % = (revenue − carrier cost − support cost) / revenue ×
                           100 < ``min_margin_percent`` (or revenue 0 with any cost)
``price_shopping``         plan changes within the last ``plan_change_months`` months
                           ≥ ``plan_changes``
``commitment_not_met``     months with spend below the minimum commitment ≥
                           ``commitment_months_below``
=========================  ==============================================================

Every comparison is inclusive on the side that raises the flag ("at the threshold" flags),
except the margin, which flags strictly below its floor (a margin of exactly 0 % is not a
loss). Dialer signals are warnings; two or more of them together are critical: that is the
pattern of an auto-dialer rather than one odd number.

Messages are English templates (gettext msgids) with ``{placeholders}`` filled from
``params``, so the Django layer can translate them.
"""

from calendar import monthrange
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Protocol

_ZERO = Decimal(0)
_PERCENT = Decimal("0.1")


class Severity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class RiskCode(StrEnum):
    DIALER_SHORT_ACD = "dialer_short_acd"
    DIALER_SHORT_CALLS = "dialer_short_calls"
    DIALER_CALL_RATE = "dialer_call_rate"
    IDLE_DIDS = "idle_dids"
    BELOW_COST_TO_SERVE = "below_cost_to_serve"
    PRICE_SHOPPING = "price_shopping"
    COMMITMENT_NOT_MET = "commitment_not_met"


@dataclass(frozen=True, slots=True)
class RiskThresholds:
    """When each rule raises its flag (see the module docstring)."""

    min_calls: int = 100  # fewer calls say nothing about a dialer
    dialer_acd_seconds: Decimal = Decimal(20)
    dialer_short_share: Decimal = Decimal("0.6")
    dialer_calls_per_channel_hour: Decimal = Decimal(60)
    min_dids: int = 10
    did_low_minutes: Decimal = Decimal(10)  # inbound minutes a month
    did_low_share: Decimal = Decimal("0.8")
    min_margin_percent: Decimal = _ZERO
    #: Monthly cost of serving an account (support, billing) when its facts carry none.
    support_cost: Decimal = _ZERO
    plan_changes: int = 3
    plan_change_months: int = 6
    commitment_months_below: int = 2


class _Profile(Protocol):
    """What :meth:`TrafficFacts.from_profile` reads of a bill-analysis profile."""

    @property
    def calls(self) -> int: ...
    @property
    def answered(self) -> int: ...
    @property
    def seconds(self) -> int: ...
    @property
    def short_calls(self) -> int: ...
    @property
    def peak_concurrent_calls(self) -> int: ...
    @property
    def active_hours(self) -> int: ...


@dataclass(frozen=True, slots=True)
class TrafficFacts:
    """Call facts: attempts, answered, billable seconds, attempts under 10 billable seconds
    (unanswered included), peak concurrent calls and the clock hours with any call."""

    calls: int
    answered: int
    seconds: int
    short_calls: int
    peak_concurrent_calls: int
    active_hours: int

    @classmethod
    def from_profile(cls, profile: _Profile) -> "TrafficFacts":
        """The facts of a :class:`ringup.engine.bills.Profile`."""
        return cls(
            calls=profile.calls,
            answered=profile.answered,
            seconds=profile.seconds,
            short_calls=profile.short_calls,
            peak_concurrent_calls=profile.peak_concurrent_calls,
            active_hours=profile.active_hours,
        )


@dataclass(frozen=True, slots=True)
class AccountFacts:
    """Account facts; None (or empty) where unknown, and the rule is skipped.

    Money is per month. ``plan_changes`` are the days the plan changed; ``at`` is today
    (the operator's date). ``spend_by_month`` maps "YYYY-MM" to the month's spend.
    """

    dids: int | None = None
    inbound_minutes_per_did: Sequence[Decimal] | None = None
    revenue: Decimal | None = None
    carrier_cost: Decimal | None = None
    support_cost: Decimal | None = None
    plan_changes: Sequence[date] = ()
    at: date | None = None
    commitment: Decimal | None = None
    spend_by_month: Mapping[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class RiskFlag:
    """One signal: ``code``, ``severity``, ``message`` (msgid template) and its figures."""

    code: RiskCode
    severity: Severity
    message: str
    params: dict[str, str | int]

    def text(self) -> str:
        """The English explanation (the Django layer translates ``message`` first)."""
        return self.message.format(**self.params)

    def to_json(self) -> dict[str, object]:
        return {
            "code": self.code.value,
            "severity": self.severity.value,
            "message": self.message,
            "params": dict(self.params),
            "text": self.text(),
        }


def risk_flags(
    traffic: TrafficFacts | None,
    account: AccountFacts | None,
    thresholds: RiskThresholds = RiskThresholds(),
) -> tuple[RiskFlag, ...]:
    """Every flag the facts raise, dialer signals first."""
    flags = list(_dialer(traffic, thresholds)) if traffic is not None else []
    if account is not None:
        for rule in (_idle_dids, _below_cost, _price_shopping, _commitment):
            flag = rule(account, thresholds)
            if flag is not None:
                flags.append(flag)
    return tuple(flags)


def _plain(value: Decimal) -> str:
    """``value`` without trailing zeros or an exponent: 60.0 → "60", 62.50 → "62.5"."""
    return format(value.normalize(), "f")


def _ratio(numerator: Decimal | int, denominator: Decimal | int, places: Decimal) -> Decimal:
    return (Decimal(numerator) / Decimal(denominator)).quantize(places, rounding=ROUND_HALF_UP)


def _dialer(t: TrafficFacts, th: RiskThresholds) -> list[RiskFlag]:
    if t.calls < th.min_calls:
        return []
    found: list[tuple[RiskCode, str, dict[str, str | int]]] = []
    # Compared unrounded; the rounded figures only explain.
    acd = Decimal(t.seconds) / t.answered if t.answered else _ZERO
    if acd <= th.dialer_acd_seconds:
        found.append(
            (
                RiskCode.DIALER_SHORT_ACD,
                "Average call duration is {acd} s over {calls} calls "
                "(threshold {threshold} s): typical of an auto-dialer.",
                {
                    "acd": str(acd.quantize(_PERCENT, rounding=ROUND_HALF_UP)),
                    "calls": t.calls,
                    "threshold": str(th.dialer_acd_seconds),
                },
            )
        )
    # short_calls counts every attempt under 10 billable seconds, and an unanswered one
    # has none, so unanswered-or-short is short_calls (at least the unanswered).
    short = max(t.short_calls, t.calls - t.answered)
    share = Decimal(short) / t.calls
    if share >= th.dialer_short_share:
        found.append(
            (
                RiskCode.DIALER_SHORT_CALLS,
                "{short} of {calls} calls ({percent}%) are unanswered or under 10 seconds "
                "(threshold {threshold}%).",
                {
                    "short": short,
                    "calls": t.calls,
                    "percent": str(_ratio(100 * short, t.calls, _PERCENT)),
                    "threshold": _plain(th.dialer_short_share * 100),
                },
            )
        )
    channel_hours = t.peak_concurrent_calls * t.active_hours
    if channel_hours:
        rate = Decimal(t.calls) / channel_hours
        if rate >= th.dialer_calls_per_channel_hour:
            found.append(
                (
                    RiskCode.DIALER_CALL_RATE,
                    "{rate} calls per channel-hour ({calls} calls, {channels} channels, "
                    "{hours} active hours; threshold {threshold}): more than people dial.",
                    {
                        "rate": str(rate.quantize(_PERCENT, rounding=ROUND_HALF_UP)),
                        "calls": t.calls,
                        "channels": t.peak_concurrent_calls,
                        "hours": t.active_hours,
                        "threshold": str(th.dialer_calls_per_channel_hour),
                    },
                )
            )
    severity = Severity.CRITICAL if len(found) >= 2 else Severity.WARNING
    return [RiskFlag(code, severity, message, params) for code, message, params in found]


def _idle_dids(a: AccountFacts, th: RiskThresholds) -> RiskFlag | None:
    if a.dids is None or a.inbound_minutes_per_did is None or a.dids < th.min_dids:
        return None
    minutes = list(a.inbound_minutes_per_did)
    # DIDs without a figure had no inbound traffic at all.
    quiet = sum(1 for m in minutes if m < th.did_low_minutes) + max(0, a.dids - len(minutes))
    if Decimal(quiet) / a.dids < th.did_low_share:
        return None
    return RiskFlag(
        RiskCode.IDLE_DIDS,
        Severity.WARNING,
        "{quiet} of {dids} numbers receive under {minutes} inbound minutes a month "
        "({percent}%; threshold {threshold}%).",
        {
            "quiet": quiet,
            "dids": a.dids,
            "minutes": str(th.did_low_minutes),
            "percent": str(_ratio(100 * quiet, a.dids, _PERCENT)),
            "threshold": _plain(th.did_low_share * 100),
        },
    )


def _below_cost(a: AccountFacts, th: RiskThresholds) -> RiskFlag | None:
    if a.revenue is None or a.carrier_cost is None:
        return None
    support = th.support_cost if a.support_cost is None else a.support_cost
    cost = a.carrier_cost + support
    margin = a.revenue - cost
    if a.revenue > 0:
        if margin * 100 / a.revenue >= th.min_margin_percent:
            return None
        percent = str(_ratio(100 * margin, a.revenue, _PERCENT))
    elif cost <= 0:
        return None
    else:
        percent = "—"
    return RiskFlag(
        RiskCode.BELOW_COST_TO_SERVE,
        Severity.CRITICAL if margin < 0 else Severity.WARNING,
        "Revenue {revenue} a month against a cost to serve of {cost} (carrier {carrier} + "
        "support {support}): margin {margin} ({percent}%; floor {threshold}%).",
        {
            "revenue": str(a.revenue),
            "cost": str(cost),
            "carrier": str(a.carrier_cost),
            "support": str(support),
            "margin": str(margin),
            "percent": percent,
            "threshold": str(th.min_margin_percent),
        },
    )


def _months_back(at: date, months: int) -> date:
    """The same day ``months`` months before ``at`` (that month's last day if shorter)."""
    year, month = divmod(at.year * 12 + at.month - 1 - months, 12)
    return date(year, month + 1, min(at.day, monthrange(year, month + 1)[1]))


def _price_shopping(a: AccountFacts, th: RiskThresholds) -> RiskFlag | None:
    if a.at is None or not a.plan_changes:
        return None
    since = _months_back(a.at, th.plan_change_months)
    changes = sum(1 for day in a.plan_changes if since < day <= a.at)
    if changes < th.plan_changes:
        return None
    return RiskFlag(
        RiskCode.PRICE_SHOPPING,
        Severity.WARNING,
        "{changes} plan changes in the last {months} months (since {since}; threshold "
        "{threshold}): the customer may be shopping for price.",
        {
            "changes": changes,
            "months": th.plan_change_months,
            "since": since.isoformat(),
            "threshold": th.plan_changes,
        },
    )


def _commitment(a: AccountFacts, th: RiskThresholds) -> RiskFlag | None:
    if a.commitment is None or not a.spend_by_month:
        return None
    below = sorted(month for month, spend in a.spend_by_month.items() if spend < a.commitment)
    if len(below) < th.commitment_months_below:
        return None
    shortfall = sum((a.commitment - a.spend_by_month[m] for m in below), _ZERO)
    return RiskFlag(
        RiskCode.COMMITMENT_NOT_MET,
        Severity.WARNING,
        "Spend was below the minimum commitment of {commitment} in {count} of {total} "
        "months ({months}); shortfall {shortfall} (threshold {threshold} months).",
        {
            "commitment": str(a.commitment),
            "count": len(below),
            "total": len(a.spend_by_month),
            "months": ", ".join(below),
            "shortfall": str(shortfall),
            "threshold": th.commitment_months_below,
        },
    )
