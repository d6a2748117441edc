"""The recompute: one run per history end date, re-running replaces its rows, bad input
is refused with the field named."""

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command

from ringup.analytics.models import CohortCell, MonthlyFigure, ProductFigure, RecomputeRun
from ringup.analytics.services.recompute import RecomputeRefused, recompute
from ringup.billing.services.subscriptions import ChangeRequest, change_subscription

from .conftest import APRIL_1, DAY

AT = datetime(2025, 6, 1, 6, tzinfo=UTC)
UNTIL = date(2025, 6, 1)


@pytest.fixture
def history(make_customer, start_sub):
    smb = start_sub(make_customer("Office"))
    change_subscription(smb, ChangeRequest(employees=15), at=APRIL_1 + 9 * DAY)
    start_sub(make_customer("Kiosk", tier="micro"), plan="virtual-number", employees=1)


def counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (RecomputeRun, MonthlyFigure, CohortCell, ProductFigure)
    )


def test_recompute_stores_the_figures_of_each_slice(history):
    run = recompute(at=AT, until=UNTIL)
    assert (run.status, run.customers, run.unpriced) == ("done", 2, 0)
    april = MonthlyFigure.objects.get(run=run, tier="", plan="", month=date(2025, 4, 1))
    # Office: 1,366.67 → 1,679.17 (expansion 312.50); Kiosk 490.00 with VAT → 408.33.
    assert (april.opening_mrr, april.expansion_mrr, april.mrr) == (
        Decimal("1775.00"),
        Decimal("312.50"),
        Decimal("2087.50"),
    )
    smb = MonthlyFigure.objects.get(run=run, tier="smb", plan="", month=date(2025, 4, 1))
    assert (smb.paying, smb.mrr) == (1, Decimal("1679.17"))
    micro_plan = MonthlyFigure.objects.get(
        run=run, tier="", plan="virtual-number", month=date(2025, 4, 1)
    )
    assert (micro_plan.paying, micro_plan.mrr) == (1, Decimal("408.33"))


def test_running_again_replaces_the_same_days_rows(history, make_customer, start_sub):
    first = recompute(at=AT, until=UNTIL)
    before = counts()
    again = recompute(at=AT, until=UNTIL)
    assert again.pk == first.pk
    assert counts() == before
    start_sub(make_customer("Late"), at=APRIL_1)
    recompute(at=AT, until=UNTIL)
    may = MonthlyFigure.objects.get(tier="", plan="", month=date(2025, 5, 1))
    assert may.paying == 3
    assert RecomputeRun.objects.count() == 1


@pytest.mark.parametrize(
    "until, message",
    [(date(2025, 6, 3), "in the future"), (date(1999, 12, 31), "before 2000")],
)
def test_a_bad_until_is_refused(db, until, message):
    with pytest.raises(RecomputeRefused, match=message) as refused:
        recompute(at=AT, until=until)
    assert refused.value.field == "until"
    assert not RecomputeRun.objects.exists()


def test_the_command_answers_bad_input_with_exit_code_2(db):
    with pytest.raises(CommandError) as error:
        call_command("analytics_recompute", "--until", "2025-13-01")
    assert error.value.returncode == 2
    assert "YYYY-MM-DD" in str(error.value)
    with pytest.raises(CommandError) as error:
        call_command("analytics_recompute", "--until", "2999-01-01")
    assert error.value.returncode == 2


def test_the_command_recomputes(history, capsys):
    call_command("analytics_recompute", "--until", "2025-06-01")
    assert "2 customers" in capsys.readouterr().out
    assert RecomputeRun.objects.get().until == UNTIL
