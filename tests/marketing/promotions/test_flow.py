"""A promo code typed at sign-up reaches the invoices: customer.registered carries it,
subscription.started (the trial converted) redeems it, the bill run discounts the
promised periods."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import transaction

from ringup.billing.models import Invoice
from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import advance_subscriptions, convert_trial
from ringup.events.models import Event
from ringup.events.services import dispatch, emit
from ringup.marketing.promotions.models import PendingCode, Promotion

from .conftest import JULY_1, MARCH_1

pytestmark = pytest.mark.django_db
D = Decimal


def registered(customer, code, signup_id=1):
    with transaction.atomic():
        emit(
            "customer.registered",
            at=MARCH_1 - timedelta(days=14),
            payload={"signup": {"id": signup_id, "email": customer.email, "promo_code": code}},
            key=f"customer.registered:signup:{signup_id}",
        )
    dispatch(at=MARCH_1, consumers=["promotions"])


def test_the_sign_up_code_is_redeemed_when_the_trial_converts(subscribe, customer, promotion):
    """A self-service trial from 15 February, kept by the customer, paid from 1 March:
    START (20%, 2
    periods) is on the March and April invoices (1,640 − 328 = 1,312.00), not May's."""
    promotion("START", duration=Promotion.Duration.REPEATING, periods=2, max_uses=None)
    registered(customer, "start")
    assert PendingCode.objects.get().code == "START"
    trial = subscribe(at=MARCH_1 - timedelta(days=14), trial=True, trial_converts=False)
    dispatch(at=MARCH_1, consumers=["promotions"])  # trial.started: nothing to redeem yet
    assert not trial.discounts.exists()
    convert_trial(trial, at=MARCH_1 - timedelta(days=5))  # the customer decides to pay
    advance_subscriptions(at=MARCH_1)  # the trial ends: subscription.started
    dispatch(at=MARCH_1 + timedelta(minutes=1), consumers=["promotions"])
    pending = PendingCode.objects.get()
    assert pending.outcome == "redeemed"
    assert pending.redemption.subscription_id == trial.pk
    assert Event.objects.filter(kind="promo.redeemed").count() == 1
    bill(until=JULY_1, at=JULY_1)
    totals = list(
        Invoice.objects.filter(subscription=trial)
        .order_by("period_start")
        .values_list("total", flat=True)
    )
    assert totals == [D("1312.00"), D("1312.00"), D("1640.00"), D("1640.00")]


def test_a_refused_sign_up_code_records_why(subscribe, customer, promotion):
    promotion("YEARLY", annual_only=True)
    registered(customer, "YEARLY")
    subscribe()
    dispatch(at=MARCH_1 + timedelta(minutes=1), consumers=["promotions"])
    assert PendingCode.objects.get().outcome == "period: valid only with annual billing"


def test_automatic_promotions_apply_at_purchase_without_a_code(subscribe, promotion):
    """Annual prepayment promotion, 5% extra, automatic at purchase: 16,728.00 a year,
    5% = 836.40 off the first year."""
    promotion(name="Prepay", automatic="purchase", annual_only=True, value=D(5))
    subscription = subscribe(period="annual")
    dispatch(at=MARCH_1 + timedelta(minutes=1), consumers=["promotions"])
    bill(until=MARCH_1.replace(year=2026), at=MARCH_1.replace(year=2026))
    invoice = Invoice.objects.get(subscription=subscription)
    assert invoice.lines.get(code__startswith="discount:").amount == D("-836.40")


def test_a_code_arriving_after_the_purchase_was_handled_is_still_redeemed(
    subscribe, customer, promotion
):
    """subscription.started handled first (a retried customer.registered comes later):
    the code is redeemed when it arrives."""
    promotion("LATE", max_uses=None)
    subscription = subscribe()
    dispatch(at=MARCH_1 + timedelta(minutes=1), consumers=["promotions"])
    assert not subscription.discounts.exists()
    registered(customer, "LATE")
    assert PendingCode.objects.get().outcome == "redeemed"
    assert subscription.discounts.count() == 1
