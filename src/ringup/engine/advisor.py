"""The plan advisor: a few answers in, a segment, plan, options and reasons out.

All rules live in this module, as data (:data:`SEGMENT_RULES`, :data:`MINUTES_PER_CALL`,
:data:`WORKING_DAYS`), so the operator's product manager can read and change them in one
place. The advice is priced by :func:`ringup.engine.pricing.price_quote` by the caller.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
class Rule:
    """When ``applies`` holds, the customer needs at least ``tier``; ``reason`` says why."""

    tier: SegmentTier
    applies: Callable[[Answers], bool]
    reason: Callable[[Answers], str]


SEGMENT_RULES: tuple[Rule, ...] = (
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: a.agents >= 4,
        lambda a: (
            f"{a.agents} dedicated sales or service agents need queues, ring groups "
            "and per-agent statistics so that no call is lost"
        ),
    ),
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: "queues" in a.needs,
        lambda a: "call queues with distribution between agents come with the contact-centre plan",
    ),
    Rule(
        SegmentTier.ENTERPRISE,
        lambda a: a.missed_call_cost is MissedCallCost.HIGH and a.calls_per_day >= 100,
        lambda a: (
            f"with {a.calls_per_day} calls a day and a costly missed call, a queue that "
            "announces the expected wait keeps callers on the line"
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: a.employees > 4,
        lambda a: (
            f"{a.employees} employees are more than a virtual number serves well: a "
            "cloud PBX gives each one an extension"
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: 1 <= a.agents < 4,
        lambda a: (
            f"{a.agents} sales people need simple call distribution and "
            "answered/missed-call reports"
        ),
    ),
    Rule(
        SegmentTier.SMB,
        lambda a: bool(a.needs & {"internal_calls", "ivr"}),
        lambda a: (
            "you asked for "
            + " and ".join(NEEDS[n] for n in sorted(a.needs & {"internal_calls", "ivr"}))
            + ", which a virtual number alone does not have"
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
    reasons: tuple[str, ...]
    tollfree_numbers: int = 0


class AdviceError(ValueError):
    """No plan in the catalog can be recommended."""


def _tier(answers: Answers) -> tuple[SegmentTier, list[str]]:
    matched = [rule for rule in SEGMENT_RULES if rule.applies(answers)]
    if not matched:
        return SegmentTier.MICRO, [
            f"{answers.employees} employee(s) and {answers.calls_per_day} calls a day are "
            "served by a virtual multi-channel number forwarded to mobiles or a softphone, "
            "the least expensive way to be reachable"
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


def _pick_package(plan: PlanFeatures, answers: Answers) -> tuple[str | None, str | None]:
    minutes = answers.calls_per_day * MINUTES_PER_CALL * WORKING_DAYS
    packages = sorted(plan.traffic_packages, key=lambda p: p[1])
    if not packages or minutes < packages[0][1] / 2:
        return None, None
    fitting = [p for p in packages if p[1] >= minutes]
    code, size = fitting[0] if fitting else packages[-1]
    estimate = (
        f"about {answers.calls_per_day} calls a day × {MINUTES_PER_CALL} min × "
        f"{WORKING_DAYS} working days ≈ {minutes:,} minutes a month"
    )
    if fitting:
        return code, f"{estimate}: the {size:,}-minute bundle covers them for less"
    return code, (
        f"{estimate}: the largest bundle, {size:,} minutes, covers part of them; the rest "
        "is charged per minute, so ask a manager for a custom traffic price"
    )


def advise(answers: Answers, plans: Sequence[PlanFeatures]) -> Advice:
    """Recommend the smallest plan that fits ``answers``, with options and reasons."""
    unknown = answers.needs - NEEDS.keys()
    if unknown:
        raise AdviceError(f"unknown needs: {', '.join(sorted(unknown))}")
    tier, reasons = _tier(answers)
    plan = _pick_plan(tier, answers, plans)
    if plan.tier is not tier:
        reasons.append(f"{plan.name} is the smallest plan in the catalog that fits")
    options: list[str] = []
    tollfree = 0
    for need in sorted(answers.needs & plan.features):
        reasons.append(f"{NEEDS[need]} is included in {plan.name}")
    for need in sorted(answers.needs - plan.features):
        option = plan.option_for_feature.get(need)
        if need == "tollfree_number" and "tollfree" in plan.number_kinds:
            tollfree = 1
            reasons.append(f"you need {NEEDS[need]}: one is added to the quote")
        elif option:
            options.append(option)
            reasons.append(f"you need {NEEDS[need]}: added as a paid option")
        else:
            reasons.append(f"{NEEDS[need]} is not available on {plan.name}; ask a manager")
    package, why = _pick_package(plan, answers)
    if why:
        reasons.append(why)
    return Advice(
        tier=tier,
        plan_code=plan.code,
        option_codes=tuple(options),
        traffic_package=package,
        employees=max(1, answers.employees),
        reasons=tuple(reasons),
        tollfree_numbers=tollfree,
    )
