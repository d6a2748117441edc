"""Trial accounts' calls: domestic, non-premium destinations only, up to a credit cap;
the rest stored unrated with reason ``trial_blocked`` and never billed."""

import io
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.core.management import call_command
from django.db import transaction
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from ringup.customers.models import Customer
from ringup.events.services import dispatch, emit
from ringup.usage.models import CallRestriction, RatedCall
from ringup.usage.selectors import billable_calls

TRIAL_START = datetime(2025, 3, 1, 9, tzinfo=UTC)

# Retail deck (usage/decks/retail.csv): Moscow 0.90/min, Russia 2.50/min, mobile 1.90/min
# per second, Kazakhstan 9.00/min, Germany 9.50/min; minute increments except mobile.
TRIAL_CDRS = (
    "id,account,src,dst,start,duration\n"
    "t0,acc-1,74950000001,84951234567,2025-02-28 12:00:00,600\n"  # before the trial: free
    "t1,acc-1,74950000001,84951234567,2025-03-02 10:00:00,600\n"  # Moscow 10 min: 9.00
    "t2,acc-1,74950000001,+77012345678,2025-03-02 10:10:00,60\n"  # Kazakhstan: blocked
    "t3,acc-1,74950000001,88091234567,2025-03-02 10:20:00,60\n"  # premium 7809: blocked
    "t4,acc-1,74950000001,004930123456,2025-03-02 10:30:00,60\n"  # Germany: blocked
    "t5,acc-1,74950000001,+79161234567,2025-03-02 11:00:00,9000\n"  # mobile 150 min: 285.00
    "t6,acc-1,74950000001,84951234567,2025-03-02 12:00:00,600\n"  # 9.00 → 303.00 > 300
    "p1,acc-2,74950000002,004930123456,2025-03-02 10:30:00,60\n"  # a paying customer: 9.50
)


def import_cdrs(path) -> dict:
    stdout = io.StringIO()
    call_command("import_cdrs", str(path), "--country", "RU", stdout=stdout)
    return json.loads(stdout.getvalue())


@pytest.fixture
def customers(db):
    def make(n):
        return Customer.objects.create(
            name=f"Customer {n}",
            email=f"c{n}@example.com",
            tier="smb",
            account=f"acc-{n}",
            registered_at=datetime(2025, 1, 10, tzinfo=UTC),
        )

    return make(1), make(2)


def happen(kind, customer, *, at, subscription_id=11):
    with transaction.atomic():
        emit(kind, at=at, payload={}, customer_id=customer.pk, subscription_id=subscription_id)
    dispatch(at=at)


def reasons():
    return dict(RatedCall.objects.values_list("cdr_id", "reason"))


def test_a_trial_blocks_other_destinations_and_calls_beyond_the_cap(customers, tmp_path):
    trial, paying = customers
    happen("trial.started", trial, at=TRIAL_START)
    restriction = CallRestriction.objects.get()
    assert (restriction.credit_cap, restriction.allowed_prefixes) == (D("300.00"), ["7"])
    assert restriction.blocked_prefixes == ["76", "77", "7809"]

    path = tmp_path / "day1.csv"
    path.write_text(TRIAL_CDRS)
    summary = import_cdrs(path)
    assert summary["unrated"] == {"trial_blocked": 4}
    assert reasons() == {
        "t0": "",
        "t1": "",
        "t2": "trial_blocked",
        "t3": "trial_blocked",
        "t4": "trial_blocked",
        "t5": "",
        "t6": "trial_blocked",
        "p1": "",
    }
    blocked = RatedCall.objects.get(cdr_id="t6")
    assert (blocked.cost, blocked.margin) == (None, None)
    assert RatedCall.objects.get(cdr_id="t5").cost == D("285.000000")
    # 9.00 (t0, before the trial) + 9.00 + 285.00 are billed; the paying customer's 9.50.
    until = TRIAL_START + timedelta(days=30)
    billable = billable_calls([trial.pk, paying.pk], TRIAL_START - timedelta(days=5), until)
    assert [call[4] for call in billable[trial.pk]] == [D("9.000000"), D("9.000000"), D("285")]
    assert [call[4] for call in billable[paying.pk]] == [D("9.500000")]

    # The next file: 294.00 spent; 1 min (0.90 → 294.90) fits, 10 min (→ 303.90) does not.
    later = tmp_path / "day2.csv"
    later.write_text(
        "id,account,src,dst,start,duration\n"
        "t7,acc-1,74950000001,84951234567,2025-03-03 10:00:00,60\n"
        "t8,acc-1,74950000001,84951234567,2025-03-03 11:00:00,600\n"
    )
    assert import_cdrs(later)["unrated"] == {"trial_blocked": 1}
    assert reasons()["t7"] == "" and reasons()["t8"] == "trial_blocked"


def test_conversion_lifts_the_restriction(customers, tmp_path):
    trial, _ = customers
    happen("trial.started", trial, at=TRIAL_START)
    happen("subscription.started", trial, at=TRIAL_START + timedelta(days=1))
    assert CallRestriction.objects.get().lifted_at == TRIAL_START + timedelta(days=1)
    path = tmp_path / "day1.csv"
    path.write_text(TRIAL_CDRS)
    assert import_cdrs(path)["unrated"] == {}


def test_a_lift_before_its_trial_start_leaves_nothing_restricted(customers, tmp_path):
    trial, _ = customers
    happen("subscription.ended", trial, at=TRIAL_START + timedelta(days=1))
    happen("trial.started", trial, at=TRIAL_START)  # delivered late
    assert CallRestriction.objects.get().lifted_at is not None
    path = tmp_path / "day1.csv"
    path.write_text(TRIAL_CDRS)
    assert import_cdrs(path)["unrated"] == {}


def test_limits_come_from_settings(customers, tmp_path, settings):
    settings.RINGUP_TRIAL_CREDIT_CAP = "10.00"
    settings.RINGUP_TRIAL_ALLOWED_PREFIXES = ["7", "49"]
    settings.RINGUP_TRIAL_BLOCKED_PREFIXES = []
    trial, _ = customers
    happen("trial.started", trial, at=TRIAL_START)
    path = tmp_path / "day1.csv"
    path.write_text(TRIAL_CDRS)
    import_cdrs(path)
    # Kazakhstan (77…) is allowed now; the cap of 10.00 passes at t2 (9.00 + 9.00 = 18.00).
    assert [k for k, v in sorted(reasons().items()) if v] == ["t2", "t3", "t4", "t5", "t6"]


@given(minutes=st.lists(st.integers(min_value=0, max_value=8), min_size=1, max_size=12))
@hypothesis_settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_a_trial_never_spends_beyond_its_cap(db, tmp_path, settings, minutes):
    """Moscow calls of whole minutes at 0.90 in start order against a cap of 5.00: a call
    is billed exactly when the running total up to it is at most the cap, so what is
    billed never passes it."""
    settings.RINGUP_TRIAL_CREDIT_CAP = "5.00"
    n = Customer.objects.count() + 1
    customer = Customer.objects.create(
        name=f"Trial {n}",
        email=f"t{n}@example.com",
        tier="smb",
        account=f"trial-{n}",
        registered_at=TRIAL_START,
    )
    happen("trial.started", customer, at=TRIAL_START, subscription_id=1000 + n)
    rows = [
        f"h{n}-{i},trial-{n},74950000001,84951234567,2025-03-02 10:{i:02d}:00,{60 * m}"
        for i, m in enumerate(minutes)
    ]
    path = tmp_path / f"trial-{n}.csv"
    path.write_text("id,account,src,dst,start,duration\n" + "\n".join(rows) + "\n")
    import_cdrs(path)

    running, expected = D(0), []
    for m in minutes:
        running += D("0.90") * m
        expected.append("" if running <= D("5.00") else "trial_blocked")
    calls = RatedCall.objects.filter(customer=customer).order_by("start")
    assert [c.reason for c in calls] == expected
    assert sum((c.cost for c in calls if not c.reason), D(0)) <= D("5.00")
