"""The plan advisor: a few answers in, a segment, plan, options and reasons out.

All rules live in this module, as data (:data:`SEGMENT_RULES`, :data:`MINUTES_PER_CALL`,
:data:`WORKING_DAYS`), so the operator's product manager can read and change them in one
place. The advice is priced by :func:`ringup.engine.pricing.price_quote` by the caller.

Reasons are :class:`Reason` s: an English template (a gettext msgid) with
``{placeholders}`` and its figures, so the Django layer says them in the visitor's
language (numbers grouped its way, needs and plan names translated); ``Advice.reasons``
is the English text.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum


class SegmentTier(StrEnum):
    MICRO = "micro"
    SMB = "smb"
    ENTERPRISE = "enterprise"

    @property
    def rank(self) -> int:
        return list(SegmentTier).index(self)


class MissedCallCost(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


#: Needs a visitor can tick, with the words used in reasons.
NEEDS: dict[str, str] = {
    "internal_calls": "short internal numbers and free calls between employees",
    "ivr": "a voice menu (IVR)",
    "queues": "call queues with distribution between agents",
    "call_recording": "call recording",
    "crm_integration": "CRM integration",
    "tollfree_number": "a toll-free 8-800 number",
    "mobile_integration": "mobile integration (employees' mobiles as extensions)",
}

#: Average length of a business call, minutes; with WORKING_DAYS it turns calls per day
#: into the minute bundle that fits.
MINUTES_PER_CALL = 3
WORKING_DAYS = 22


@dataclass(frozen=True, slots=True)
class Answers:
    employees: int
    agents: int = 0
    calls_per_day: int = 0
    missed_call_cost: MissedCallCost = MissedCallCost.MEDIUM
    needs: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the advice is what it is: ``message`` with ``{placeholders}`` from ``params``.

    Params are ints (counts, minutes), plan names (``plan``) and need codes of
    :data:`NEEDS` (``need``; ``needs`` is a tuple of them, said as "X and Y")."""

    message: str
    params: Mapping[str, object] = field(default_factory=dict)

    def text(self, words: Callable[[str, object], str] | None = None) -> str:
        """The reason in words: each param said by ``words(name, value)`` (default:
        English, numbers grouped with commas)."""
        say = words or _english
        return self.message.format(**{name: say(name, v) for name, v in self.params.items()})


def _english(name: str, value: object) -> str:
    if name == "need":
        return NEEDS[str(value)]
    if name == "needs" and isinstance(value, tuple):
        return " and ".join(NEEDS[need] for need in value)
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


@dataclass(frozen=True, slots=True)
class Rule:
    """When ``applies`` holds, the customer needs at least ``tier``; ``reason`` says why."""

    tier: SegmentTier
    applies: Callable[[Answers], bool]
    reason: Callable[[Answers], Reason]


SEGMENT_RULES: tuple[Rule, ...] = (
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: a.agents >= 4,
        lambda a: Reason(
            "{agents} dedicated sales or service agents need queues, ring groups "
            "and per-agent statistics so that no call is lost",
            {"agents": a.agents},
        ),
    ),
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: "queues" in a.needs,
        lambda a: Reason(
            "call queues with distribution between agents come with the contact-centre plan"
        ),
    ),
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: a.missed_call_cost is MissedCallCost.HIGH and a.calls_per_day >= 100,
        lambda a: Reason(
            "with {calls} calls a day and a costly missed call, a queue that "
            "announces the expected wait keeps callers on the line",
            {"calls": a.calls_per_day},
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: a.employees > 4,
        lambda a: Reason(
            "{employees} employees are more than a virtual number serves well: a "
            "cloud PBX gives each one an extension",
            {"employees": a.employees},
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: 1 <= a.agents < 4,
        lambda a: Reason(
            "{agents} sales people need simple call distribution and answered/missed-call reports",
            {"agents": a.agents},
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: bool(a.needs & {"internal_calls", "ivr"}),
        lambda a: Reason(
            "you asked for {needs}, which a virtual number alone does not have",
            {"needs": tuple(sorted(a.needs & {"internal_calls", "ivr"}))},
        ),
    ),
)


@dataclass(frozen=True, slots=True)
class PlanFeatures:
    """What the advisor needs to know about one plan."""

    code: str
    name: str
    tier: SegmentTier
    features: frozenset[str]
    #: feature code → option code that adds it to this plan
    option_for_feature: dict[str, str]
    max_employees: int
    #: (code, minutes) of the plan's minute bundles
    traffic_packages: tuple[tuple[str, int], ...] = ()
    #: kinds of phone number the plan sells ("local", "tollfree" …)
    number_kinds: frozenset[str] = frozenset()
    sort_order: int = 0


@dataclass(frozen=True, slots=True)
class Advice:
    tier: SegmentTier
    plan_code: str
    option_codes: tuple[str, ...]
    traffic_package: str | None
    employees: int
    explained: tuple[Reason, ...]
    tollfree_numbers: int = 0

    @property
    def reasons(self) -> tuple[str, ...]:
        """The reasons in English."""
        return tuple(reason.text() for reason in self.explained)


class AdviceError(ValueError):
    """No plan in the catalog can be recommended."""


def _tier(answers: Answers) -> tuple[SegmentTier, list[Reason]]:
    matched = [rule for rule in SEGMENT_RULES if rule.applies(answers)]
    if not matched:
        return SegmentTier.MICRO, [
            Reason(
                "{employees} employee(s) and {calls} calls a day are served by a virtual "
                "multi-channel number forwarded to mobiles or a softphone, the least "
                "expensive way to be reachable",
                {"employees": answers.employees, "calls": answers.calls_per_day},
            )
        ]
    top = max(rule.tier.rank for rule in matched)
    tier = list(SegmentTier)[top]
    return tier, [rule.reason(answers) for rule in matched if rule.tier is tier]


def _pick_plan(tier: SegmentTier, answers: Answers, plans: Sequence[PlanFeatures]) -> PlanFeatures:
    candidates = sorted(
        (p for p in plans if p.tier.rank >= tier.rank and p.max_employees >= answers.employees),
        key=lambda p: (p.tier.rank, p.sort_order),
    )
    if not candidates:
        raise AdviceError(f"no plan serves {answers.employees} employees")
    return candidates[0]


def _pick_package(plan: PlanFeatures, answers: Answers) -> tuple[str | None, Reason | None]:
    minutes = answers.calls_per_day * MINUTES_PER_CALL * WORKING_DAYS
    packages = sorted(plan.traffic_packages, key=lambda p: p[1])
    if not packages or minutes < packages[0][1] / 2:
        return None, None
    fitting = [p for p in packages if p[1] >= minutes]
    code, size = fitting[0] if fitting else packages[-1]
    figures = {
        "calls": answers.calls_per_day,
        "call_minutes": MINUTES_PER_CALL,
        "days": WORKING_DAYS,
        "minutes": minutes,
        "size": size,
    }
    estimate = (
        "about {calls} calls a day × {call_minutes} min × {days} working days ≈ "
        "{minutes} minutes a month"
    )
    if fitting:
        return code, Reason(estimate + ": the {size}-minute bundle covers them for less", figures)
    return code, Reason(
        estimate + ": the largest bundle, {size} minutes, covers part of them; the rest "
        "is charged per minute, so ask a manager for a custom traffic price",
        figures,
    )


def advise(answers: Answers, plans: Sequence[PlanFeatures]) -> Advice:
    """Recommend the smallest plan that fits ``answers``, with options and reasons."""
    unknown = answers.needs - NEEDS.keys()
    if unknown:
        raise AdviceError(f"unknown needs: {', '.join(sorted(unknown))}")
    tier, reasons = _tier(answers)
    plan = _pick_plan(tier, answers, plans)
    if plan.tier is not tier:
        reasons.append(
            Reason("{plan} is the smallest plan in the catalog that fits", {"plan": plan.name})
        )
    options: list[str] = []
    tollfree = 0
    for need in sorted(answers.needs & plan.features):
        reasons.append(Reason("{need} is included in {plan}", {"need": need, "plan": plan.name}))
    for need in sorted(answers.needs - plan.features):
        option = plan.option_for_feature.get(need)
        if need == "tollfree_number" and "tollfree" in plan.number_kinds:
            tollfree = 1
            reasons.append(Reason("you need {need}: one is added to the quote", {"need": need}))
        elif option:
            options.append(option)
            reasons.append(Reason("you need {need}: added as a paid option", {"need": need}))
        else:
            reasons.append(
                Reason(
                    "{need} is not available on {plan}; ask a manager",
                    {"need": need, "plan": plan.name},
                )
            )
    package, why = _pick_package(plan, answers)
    if why:
        reasons.append(why)
    return Advice(
        tier=tier,
        plan_code=plan.code,
        option_codes=tuple(options),
        traffic_package=package,
        employees=max(1, answers.employees),
        explained=tuple(reasons),
        tollfree_numbers=tollfree,
    )
