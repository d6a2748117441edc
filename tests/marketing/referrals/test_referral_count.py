"""``referral_count``: the referral program writes the referrer onto the joined customer,
and the segment condition counts those customers in the segment's one query."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ringup.customers.models import Customer
from ringup.marketing.referrals.services import code_for
from ringup.marketing.segments.conditions import ConditionError, validate
from ringup.marketing.segments.selectors import members

from .conftest import REGISTERED, deliver
from .helpers import SIGNED_UP, sign_up

pytestmark = pytest.mark.django_db
LATER = SIGNED_UP + timedelta(days=1)


def _segment(op, count):
    return {"all": [{"field": "referral_count", "op": op, "value": count}]}


def ids(conditions, at=LATER):
    return set(members(conditions, at=at).values_list("pk", flat=True))


def test_joined_referrals_are_counted_and_rejected_ones_are_not(client, referrer, program):
    """Irina brings Boris and Vera (joined) and a second account of herself (rejected:
    same phone). Boris brings nobody. Irina has 2 referrals: at least 2 → Irina; at
    least 3 → nobody; at most 0 → everyone else, the referred ones included."""
    code = code_for(referrer, at=REGISTERED).code
    boris = sign_up(client, "boris@example.com", "+79167654321", code)
    vera = sign_up(client, "vera@example.com", "+79167654322", code)
    sign_up(client, "irina2@example.com", "8 903 111-22-33", code)
    deliver()
    assert boris.referrer_id is None  # read before the consumer ran
    boris.refresh_from_db()
    vera.refresh_from_db()
    assert (boris.referrer, vera.referrer) == (referrer, referrer)
    assert Customer.objects.get(email="irina2@example.com").referrer is None
    everyone = set(Customer.objects.values_list("pk", flat=True))
    assert ids(_segment("gte", 2)) == {referrer.pk}
    assert ids(_segment("gte", 3)) == set()
    assert ids(_segment("lte", 0)) == everyone - {referrer.pk}
    # Before the referred customers registered, Irina had none.
    assert ids(_segment("gte", 1), at=SIGNED_UP - timedelta(days=1)) == set()


def test_the_condition_is_one_query_with_the_others(client, referrer, program):
    code = code_for(referrer, at=REGISTERED).code
    sign_up(client, "boris@example.com", "+79167654321", code)
    deliver()
    conditions = {
        "all": [
            {"field": "referral_count", "op": "gte", "value": 1},
            {"field": "revenue", "op": "lte", "value": {"months": 12, "amount": "100000.00"}},
            {"field": "tier", "op": "in", "value": ["smb"]},
        ]
    }
    with CaptureQueriesContext(connection) as queries:
        assert ids(conditions) == {referrer.pk}
    assert len(queries) == 1


@pytest.mark.parametrize("value", [-1, "3", 2.5, True, None])
def test_bad_counts_are_refused_under_their_path(value):
    with pytest.raises(ConditionError) as error:
        validate(_segment("gte", value))
    assert list(error.value.errors) == ["conditions.all.0.value"]
