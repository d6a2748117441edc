"""Racing redemptions on PostgreSQL: the database lets exactly as many through as the
limits allow (conditional counter updates and unique constraints, no check-then-write)."""

import threading

import pytest
from django.db import connection

from ringup.billing.models import SubscriptionDiscount
from ringup.events.models import Event
from ringup.marketing.promotions.models import PromoCode, Redemption
from ringup.marketing.promotions.services import PromotionRefused, redeem_code

from .conftest import MARCH_1

RACERS = 50

pytestmark = [
    # SQLite's test database locks whole tables instead of waiting.
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL"
    ),
    pytest.mark.django_db(transaction=True),
]


def race(subscriptions, code: str) -> list[str]:
    start = threading.Barrier(len(subscriptions))
    outcomes: list[str] = []
    lock = threading.Lock()

    def attempt(subscription) -> None:
        try:
            start.wait(timeout=30)
            redeem_code(code, subscription, at=MARCH_1)
            outcome = "redeemed"
        except PromotionRefused as error:
            outcome = "refused:" + ",".join(error.errors.values())
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in subscriptions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outcomes) == len(subscriptions), "a racer did not finish"
    return outcomes


def test_fifty_parallel_redemptions_of_a_single_use_code_succeed_once(
    subscribe, make_customer, promotion
):
    promotion("SOLO", max_uses=1)
    subscriptions = [subscribe(who=make_customer()) for _ in range(RACERS)]
    outcomes = race(subscriptions, "SOLO")
    assert outcomes.count("redeemed") == 1
    assert set(outcomes) - {"redeemed"} == {"refused:this promo code has been used up"}
    assert PromoCode.objects.get(code="SOLO").used == 1
    assert Redemption.objects.count() == 1
    assert SubscriptionDiscount.objects.count() == 1
    assert Event.objects.filter(kind="promo.redeemed").count() == 1


def test_one_customer_racing_a_multi_use_code_redeems_it_once(subscribe, promotion):
    promotion("MANY", max_uses=None, per_customer_limit=1)
    subscriptions = [subscribe() for _ in range(10)]
    outcomes = race(subscriptions, "MANY")
    assert outcomes.count("redeemed") == 1
    assert Redemption.objects.count() == 1
    assert PromoCode.objects.get(code="MANY").used == 1
