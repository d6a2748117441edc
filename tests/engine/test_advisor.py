"""The advisor's rules, one worked example each."""

import pytest

from ringup.engine.advisor import (
    AdviceError,
    Answers,
    MissedCallCost,
    PlanFeatures,
    SegmentTier,
    advise,
)

PLANS = [
    PlanFeatures(
        code="virtual-number",
        name="Virtual Number",
        tier=SegmentTier.MICRO,
        features=frozenset(),
        option_for_feature={"call_recording": "call-recording", "crm_integration": "crm-basic"},
        max_employees=4,
        traffic_packages=(("min-300", 300), ("min-1000", 1000)),
        number_kinds=frozenset({"local", "tollfree"}),
    ),
    PlanFeatures(
        code="office-pbx",
        name="Office PBX",
        tier=SegmentTier.SMB,
        features=frozenset({"internal_calls", "ivr", "mobile_integration"}),
        option_for_feature={"crm_integration": "crm-integration"},
        max_employees=200,
        traffic_packages=(("min-1000", 1000), ("min-3000", 3000)),
        number_kinds=frozenset({"local", "tollfree"}),
    ),
    PlanFeatures(
        code="contact-centre",
        name="Contact Centre",
        tier=SegmentTier.ENTERPRISE,
        features=frozenset({"internal_calls", "ivr", "queues", "crm_integration"}),
        option_for_feature={},
        max_employees=5000,
        traffic_packages=(("min-3000", 3000), ("min-10000", 10000)),
    ),
]


def test_small_firm_gets_a_virtual_number():
    """3 people, 5 calls a day: 5 × 3 min × 22 days = 330 minutes, above half of the
    smallest 300-minute bundle (150), and the 1,000-minute bundle is not needed:
    the 300 one is too small (330 > 300) so the next one that covers, 1,000, is chosen."""
    advice = advise(Answers(employees=3, calls_per_day=5), PLANS)
    assert advice.tier is SegmentTier.MICRO
    assert advice.plan_code == "virtual-number"
    assert advice.traffic_package == "min-1000"
    assert "330 minutes" in advice.reasons[-1]


def test_few_calls_need_no_bundle():
    """2 calls a day × 3 × 22 = 132 minutes < 150 (half the smallest bundle)."""
    advice = advise(Answers(employees=1, calls_per_day=2), PLANS)
    assert advice.traffic_package is None


def test_more_than_four_employees_need_a_pbx():
    advice = advise(Answers(employees=12, agents=2, needs=frozenset({"crm_integration"})), PLANS)
    assert advice.plan_code == "office-pbx"
    assert advice.option_codes == ("crm-integration",)
    assert any("12 employees" in reason for reason in advice.reasons)
    assert any("2 sales people" in reason for reason in advice.reasons)


def test_four_agents_make_a_contact_centre():
    advice = advise(Answers(employees=10, agents=4), PLANS)
    assert advice.tier is SegmentTier.ENTERPRISE
    assert advice.plan_code == "contact-centre"


def test_costly_missed_calls_at_volume_make_a_contact_centre():
    """High missed-call cost with 100+ calls a day: a queue keeps callers."""
    busy = advise(
        Answers(employees=6, calls_per_day=150, missed_call_cost=MissedCallCost.HIGH), PLANS
    )
    quiet = advise(
        Answers(employees=6, calls_per_day=99, missed_call_cost=MissedCallCost.HIGH), PLANS
    )
    assert busy.plan_code == "contact-centre"
    assert quiet.plan_code == "office-pbx"


def test_ivr_moves_even_a_tiny_firm_to_the_pbx():
    advice = advise(Answers(employees=2, needs=frozenset({"ivr"})), PLANS)
    assert advice.plan_code == "office-pbx"
    assert any("voice menu" in reason for reason in advice.reasons)


def test_included_features_are_not_sold_again_and_tollfree_adds_a_number():
    advice = advise(
        Answers(employees=8, needs=frozenset({"ivr", "tollfree_number", "mobile_integration"})),
        PLANS,
    )
    assert advice.option_codes == ()
    assert advice.tollfree_numbers == 1
    assert any("included in Office PBX" in reason for reason in advice.reasons)


def test_unavailable_need_is_said_not_hidden():
    advice = advise(Answers(employees=10, agents=5, needs=frozenset({"call_recording"})), PLANS)
    assert any("not available on Contact Centre" in reason for reason in advice.reasons)


def test_more_staff_than_any_plan_is_an_error():
    with pytest.raises(AdviceError):
        advise(Answers(employees=9000, agents=10), PLANS)


def test_unknown_need_is_an_error():
    with pytest.raises(AdviceError):
        advise(Answers(employees=3, needs=frozenset({"teleportation"})), PLANS)
