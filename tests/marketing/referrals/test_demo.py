"""The demo operator's referral example, loaded from a billed history."""

from io import StringIO

import pytest
from django.core.management import call_command

from ringup.demo.referrals import load_referrals
from ringup.marketing.referrals.models import Referral, Reward

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo_history(tmp_path, settings):
    settings.RINGUP_MAIL_DIR = tmp_path / "mail"
    out = StringIO()
    call_command("demo_data", customers=60, months=6, seed=3, until="2025-03-01", stdout=out)


def test_the_demo_shows_a_referrer_with_rewards_and_loads_once(demo_history):
    demo = load_referrals()
    assert demo.referrer is not None and demo.referrals == 3
    kinds = set(Reward.objects.values_list("kind", flat=True))
    assert kinds == {"percentage", "invitations"}
    assert Referral.objects.filter(status="converted").count() == 3
    assert demo.code in demo.message
    again = load_referrals()
    assert (again.referrals, again.rewards) == (demo.referrals, demo.rewards)
    assert Reward.objects.count() == demo.rewards
