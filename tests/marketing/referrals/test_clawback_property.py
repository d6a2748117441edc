"""The clawback rule as a money property: partial credit notes never take back more than
the reward, and crediting the whole invoice takes back exactly all of it."""

from decimal import ROUND_DOWN
from decimal import Decimal as D

from hypothesis import given
from hypothesis import strategies as st

from ringup.marketing.referrals.services import clawback_due

cents = st.integers(min_value=1, max_value=10_000_000).map(lambda c: D(c) / 100)


@given(
    total=cents,
    reward_share=st.integers(min_value=1, max_value=100),
    parts=st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6),
)
def test_partial_refunds_add_up_to_the_whole_reward(total, reward_share, parts):
    reward = max(D("0.01"), (total * reward_share / 100).quantize(D("0.01")))
    # Split the invoice's total into credit notes in the proportions ``parts``, in cents.
    weights = sum(parts)
    notes = [(total * part / weights).quantize(D("0.01"), ROUND_DOWN) for part in parts[:-1]]
    notes.append(total - sum(notes, D(0)))
    credited, taken = D(0), D(0)
    for note in notes:
        credited += note
        due = clawback_due(reward, credited, total, taken)
        assert due >= 0
        taken += due
        assert taken <= reward
    assert taken == reward


def test_worked_example():
    """A 123.00 reward on a 1,640.00 invoice: 820.00 credited takes back 61.50, the other
    820.00 the remaining 61.50."""
    assert clawback_due(D("123.00"), D("820.00"), D("1640.00"), D("0")) == D("61.50")
    assert clawback_due(D("123.00"), D("1640.00"), D("1640.00"), D("61.50")) == D("61.50")
