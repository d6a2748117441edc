"""The engine's history of a configuration and the included minutes it gives a period."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from ringup.engine.invoicing import Config, History, PlanChange, included_minutes
from ringup.engine.periods import Interval, billing_period

MOSCOW = ZoneInfo("Europe/Moscow")
MARCH = billing_period(datetime(2025, 3, 1).date(), 1, Interval.MONTHLY, 0, MOSCOW)
MINUTES = {None: 0, "min-300": 300, "min-1000": 1000, "min-3000": 3000}


def minutes_of(config: Config) -> int:
    return MINUTES[config.traffic_package]


def test_worked_example_of_minutes_for_a_package_changed_mid_period():
    """1,000 minutes for the first 20 of March's 31 days, 3,000 for the last 11:
    (1,000 × 20 + 3,000 × 11) / 31 = 53,000 / 31 = 1,709.67… → 1,709 whole minutes."""
    change = MARCH.start + timedelta(days=20)
    history = History(
        current=Config("office-pbx", 10, 2, (), "min-3000"),
        plan_changes=(PlanChange(change, from_package="min-1000", package_changed=True),),
    )
    assert history.at(change - timedelta(seconds=1)).traffic_package == "min-1000"
    assert history.at(change).traffic_package == "min-3000"
    assert included_minutes(history, MARCH, Interval.MONTHLY, minutes_of) == 1709


def test_an_ended_subscription_holds_no_minutes_after_its_end():
    """Ended at midnight of 11 March: 1,000 × 10/31 = 322.58… → 322."""
    history = History(
        current=Config("office-pbx", 10, 2, (), "min-1000"),
        ended_at=MARCH.start + timedelta(days=10),
    )
    assert included_minutes(history, MARCH, Interval.MONTHLY, minutes_of) == 322


def test_numbers_are_undone_like_employees():
    change = MARCH.start + timedelta(days=3)
    history = History(
        current=Config("office-pbx", 10, 7),
        plan_changes=(PlanChange(change, from_numbers=2),),
    )
    assert history.at(MARCH.start).numbers == 2
    assert history.at(change).numbers == 7


@given(
    first=st.sampled_from(list(MINUTES)),
    changes=st.lists(
        st.tuples(st.integers(1, MARCH.seconds - 1), st.sampled_from(list(MINUTES))),
        max_size=5,
        unique_by=lambda change: change[0],
    ),
    months=st.sampled_from([Interval.MONTHLY, Interval.ANNUAL]),
)
def test_minutes_are_the_time_weighted_package_rounded_down_once(first, changes, months):
    changes = sorted(changes)
    # Walk forward to find the package held after each change, then record what each
    # change replaced, as the history stores it.
    held, recorded = first, []
    for offset, package in changes:
        recorded.append(
            PlanChange(
                MARCH.start + timedelta(seconds=offset), from_package=held, package_changed=True
            )
        )
        held = package
    history = History(Config("office-pbx", 10, 2, (), held), plan_changes=tuple(recorded))
    bounds = [0, *(offset for offset, _ in changes), MARCH.seconds]
    packages = [first, *(package for _, package in changes)]
    weighted = sum(
        MINUTES[package] * (end - start)
        for package, start, end in zip(packages, bounds, bounds[1:], strict=False)
    )
    found = included_minutes(history, MARCH, months, minutes_of)
    assert found == weighted * months.months // MARCH.seconds
    lowest, highest = min(MINUTES[p] for p in packages), max(MINUTES[p] for p in packages)
    assert lowest * months.months <= found <= highest * months.months
    if len(set(packages)) == 1:
        assert found == MINUTES[first] * months.months


def test_a_history_without_changes_is_its_current_configuration():
    config = Config("office-pbx", 10, 3, ("crm",), "min-1000")
    assert History(config).at(datetime(2025, 3, 5, tzinfo=UTC)) == config
