"""The pipeline: stages move only along the allowed transitions, a won deal starts exactly
one subscription, a lost deal makes the engagement follow-ups, each change its event."""

from datetime import date, timedelta

import pytest

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.events.models import Event
from ringup.events.services import dispatch
from ringup.marketing.engagement.models import FollowUpTask
from ringup.sales.deals.models import Stage
from ringup.sales.deals.services.deals import (
    DealRefused,
    NewDeal,
    create_deal,
    lose_deal,
    move_deal,
    set_offer,
    win_deal,
)

from .conftest import NOW

pytestmark = pytest.mark.django_db


def kinds(deal):
    return list(
        Event.objects.filter(customer_id=deal.customer_id)
        .order_by("id")
        .values_list("kind", flat=True)
    )


def to_proposal(deal, by=None):
    move_deal(deal, Stage.QUALIFIED, at=NOW + timedelta(days=1), by=by)
    return move_deal(deal, Stage.PROPOSAL, at=NOW + timedelta(days=2), by=by)


def test_a_new_deal_makes_a_prospect_without_subscription(make_deal, staff):
    manager = staff()
    deal = make_deal(owner=manager, sites=2, current_provider="Rostelecom")
    customer = Customer.objects.get(pk=deal.customer_id)
    assert (customer.source, customer.is_company, customer.name) == (
        "sales",
        True,
        "Mercury Insurance",
    )
    assert [c.name for c in customer.contacts.all()] == ["Irina Volkova"]
    assert customer.contacts.get().is_primary
    assert not Subscription.objects.filter(customer=customer).exists()
    assert (deal.stage, deal.owner, deal.sites, deal.title) == (
        "lead",
        manager,
        2,
        "Mercury Insurance",
    )
    assert list(deal.stage_changes.values_list("to_stage", flat=True)) == ["lead"]
    event = Event.objects.get(kind="deal.created")
    assert event.payload["deal"]["id"] == deal.pk
    assert event.payload["customer"]["name"] == "Mercury Insurance"


def test_bad_new_deal_names_the_fields(catalog):
    with pytest.raises(DealRefused) as refused:
        create_deal(NewDeal(company=" ", lines=0, tier="huge"), at=NOW)
    assert set(refused.value.errors) == {"company", "lines", "tier"}
    assert not Customer.objects.exists()


def test_stages_move_along_the_pipeline_with_timestamps(make_deal):
    deal = make_deal()
    deal = to_proposal(deal)
    deal = move_deal(deal, Stage.TRIAL, at=NOW + timedelta(days=3), note="14-day trial")
    history = list(deal.stage_changes.values_list("from_stage", "to_stage", "at"))
    assert history == [
        ("", "lead", NOW),
        ("lead", "qualified", NOW + timedelta(days=1)),
        ("qualified", "proposal", NOW + timedelta(days=2)),
        ("proposal", "trial", NOW + timedelta(days=3)),
    ]
    assert deal.stage_changed_at == NOW + timedelta(days=3)
    assert kinds(deal) == ["deal.created"] + ["deal.stage_changed"] * 3
    last = Event.objects.filter(kind="deal.stage_changed").order_by("id").last()
    assert last.payload["stage"] == {"from": "proposal", "to": "trial"}


@pytest.mark.parametrize(
    "stage, message",
    [
        ("proposal", "a lead deal cannot move to proposal (allowed: qualified, lost)"),
        ("trial", "a lead deal cannot move to trial (allowed: qualified, lost)"),
        ("won", "a deal is won through its own action, with its details"),
        ("closed", "one of lead, qualified, proposal, trial, won, lost"),
    ],
)
def test_invalid_transitions_are_refused_clearly(make_deal, stage, message):
    deal = make_deal()
    with pytest.raises(DealRefused) as refused:
        move_deal(deal, stage, at=NOW + timedelta(hours=1))
    assert refused.value.errors == {"stage": message}
    deal.refresh_from_db()
    assert deal.stage == "lead"
    assert kinds(deal) == ["deal.created"]


def test_a_lead_cannot_be_won_and_a_won_deal_cannot_move(make_deal):
    deal = make_deal()
    set_offer(deal, plan="office-pbx", employees=10)
    with pytest.raises(DealRefused, match="a lead deal cannot move to won"):
        win_deal(deal, at=NOW + timedelta(hours=1))
    deal = to_proposal(deal)
    win_deal(deal, at=NOW + timedelta(days=3))
    with pytest.raises(DealRefused, match="allowed: none: the deal is closed"):
        move_deal(deal, Stage.TRIAL, at=NOW + timedelta(days=4))


def test_win_starts_one_subscription_on_the_offer_even_when_won_twice(make_deal):
    deal = to_proposal(make_deal())
    set_offer(deal, plan="office-pbx", employees=12, numbers=3, options=("crm-integration",))
    won_at = NOW + timedelta(days=5)

    win_deal(deal, at=won_at)
    again = win_deal(deal, at=won_at + timedelta(hours=1))

    subscription = Subscription.objects.get(customer_id=deal.customer_id)
    assert again.subscription_id == subscription.pk
    assert (subscription.plan.code, subscription.employees, subscription.numbers) == (
        "office-pbx",
        12,
        3,
    )
    assert list(subscription.items.values_list("option__code", flat=True)) == ["crm-integration"]
    assert (subscription.status, subscription.started_at) == ("active", won_at)
    assert (again.stage, again.closed_at) == ("won", won_at)
    assert kinds(deal).count("deal.won") == 1
    assert "subscription.started" in kinds(deal)


def test_win_without_an_offer_is_refused_and_changes_nothing(make_deal):
    deal = to_proposal(make_deal())
    with pytest.raises(DealRefused) as refused:
        win_deal(deal, at=NOW + timedelta(days=3))
    assert refused.value.errors == {"plan": "no plan is proposed yet"}
    deal.refresh_from_db()
    assert deal.stage == "proposal"
    assert not Subscription.objects.exists()


def test_an_offer_that_cannot_be_priced_is_refused(make_deal):
    deal = make_deal()
    with pytest.raises(DealRefused.__mro__[1]) as refused:  # pricing's SelectionError
        set_offer(deal, plan="office-pbx", employees=10, options=("speech-analytics",))
    assert "options" in refused.value.errors


def test_lost_deal_makes_follow_ups_in_3_and_6_months_once(make_deal, staff):
    """Lost on 1 June 2025 (15:00 Moscow): ask again on 1 September and 1 December 2025,
    for the deal's owner. Delivering the event twice makes no more tasks."""
    manager = staff()
    deal = make_deal(owner=manager)
    lose_deal(deal, reason="timing", at=NOW + timedelta(minutes=5), note="Budget frozen until Q4")
    deal.refresh_from_db()
    assert (deal.stage, deal.lost_reason, deal.lost_note) == (
        "lost",
        "timing",
        "Budget frozen until Q4",
    )
    event = Event.objects.get(kind="deal.lost")
    assert event.payload["lost"]["reason"] == "timing"

    dispatch(at=NOW + timedelta(minutes=6), consumers=["engagement-follow-ups"])
    dispatch(at=NOW + timedelta(minutes=7), consumers=["engagement-follow-ups"])

    tasks = FollowUpTask.objects.filter(customer_id=deal.customer_id).order_by("due_on")
    assert [(t.due_on, t.assignee_id, t.reason) for t in tasks] == [
        (date(2025, 9, 1), manager.pk, "said_no"),
        (date(2025, 12, 1), manager.pk, "said_no"),
    ]
    assert "Budget frozen until Q4" in tasks[0].note
    assert "3 months" in tasks[0].title


def test_losing_needs_a_known_reason(make_deal):
    deal = make_deal()
    with pytest.raises(DealRefused) as refused:
        lose_deal(deal, reason="weather", at=NOW + timedelta(hours=1))
    assert list(refused.value.errors) == ["reason"]


def test_a_lost_deal_reopened_and_lost_again_is_asked_again_for_each_loss(make_deal):
    deal = make_deal()
    lose_deal(deal, reason="price", at=NOW + timedelta(hours=1))
    deal = move_deal(deal, Stage.LEAD, at=NOW + timedelta(days=100))
    assert (deal.stage, deal.lost_reason, deal.closed_at) == ("lead", "", None)
    lose_deal(deal, reason="competitor", at=NOW + timedelta(days=120))
    dispatch(at=NOW + timedelta(days=121), consumers=["engagement-follow-ups"])
    assert FollowUpTask.objects.filter(customer_id=deal.customer_id).count() == 4


def test_a_change_dated_before_the_last_is_refused(make_deal):
    deal = make_deal()
    with pytest.raises(DealRefused) as refused:
        move_deal(deal, Stage.QUALIFIED, at=NOW - timedelta(days=1))
    assert list(refused.value.errors) == ["at"]
