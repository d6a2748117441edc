"""Two workers granting the same reward at the same instant (PostgreSQL): the unique
source key lets one write it; the other finds it taken and grants nothing."""

import threading
from decimal import Decimal as D

import pytest
from django.db import connection

from ringup.billing.models import AccountCredit
from ringup.marketing.referrals.models import Reward
from ringup.marketing.referrals.services import grant

from .conftest import REGISTERED


@pytest.mark.django_db(transaction=True)
def test_one_source_key_is_rewarded_once_under_a_race(referrer, program):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): two connections at once")
    barrier = threading.Barrier(8, timeout=20)
    results, errors = [], []

    def run():
        try:
            barrier.wait()
            results.append(
                grant(
                    referrer,
                    kind=Reward.Kind.INVITATIONS,
                    source_key=f"invitations:customer:{referrer.pk}",
                    amount=D("300.00"),
                    description="Referral bonus: 3 acquaintances named",
                    at=REGISTERED,
                )
            )
        except Exception as error:  # surfaced below: a thread's exception is otherwise lost
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assert len([r for r in results if r is not None]) == 1
    assert Reward.objects.count() == 1
    assert list(AccountCredit.objects.values_list("amount", flat=True)) == [D("300.00")]
