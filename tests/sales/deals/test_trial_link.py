"""The proposal's "Try free" link: a signed token naming the deal, valid 30 days, refused
when forged, expired, closed or when the prospect already has an account."""

from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.core import signing

from ringup.sales.deals.models import Stage
from ringup.sales.deals.selectors import signup_url
from ringup.sales.deals.services.deals import lose_deal, set_offer
from ringup.sales.deals.services.trials import (
    SALT,
    TrialLinkRefused,
    deal_of_token,
    trial_token,
)

from .conftest import NOW

pytestmark = pytest.mark.django_db


def test_the_token_names_the_deal_until_it_expires(make_deal):
    deal = make_deal()
    token = trial_token(deal, at=NOW)
    assert deal_of_token(token, at=NOW + timedelta(days=29, hours=23)) == deal
    # 30 days from 1 June 12:00 UTC: the link is dead from 1 July 12:00 UTC on.
    with pytest.raises(TrialLinkRefused, match="expired"):
        deal_of_token(token, at=NOW + timedelta(days=30))


def test_a_forged_or_foreign_token_is_refused(make_deal):
    deal = make_deal()
    token = trial_token(deal, at=NOW)
    until = int((NOW + timedelta(days=1)).timestamp())
    # The same payload signed without the server's secret key.
    forged = signing.dumps({"deal": deal.pk, "until": until}, salt=SALT, key="guessed")
    for bad in (forged, token[:-2] + "xx", "", "deal-1"):
        with pytest.raises(TrialLinkRefused, match="not valid"):
            deal_of_token(bad, at=NOW)
    # Signed with another salt (e.g. a password-reset token): not a trial link.
    elsewhere = signing.dumps({"deal": deal.pk, "until": until}, salt="other")
    with pytest.raises(TrialLinkRefused, match="not valid"):
        deal_of_token(elsewhere, at=NOW)


def test_a_closed_deal_or_a_taken_prospect_is_refused(make_deal):
    lost = make_deal()
    token = trial_token(lost, at=NOW)
    lose_deal(lost, reason="price", at=NOW)
    with pytest.raises(TrialLinkRefused, match="closed"):
        deal_of_token(token, at=NOW)

    deal = make_deal("Kvant")
    deal.customer.user = get_user_model().objects.create_user("kvant", "it@kvant.example")
    deal.customer.save()
    with pytest.raises(TrialLinkRefused, match="Kvant already has an account"):
        deal_of_token(trial_token(deal, at=NOW), at=NOW)


def test_try_free_carries_the_offer_and_the_token(make_deal):
    deal = make_deal()
    set_offer(deal, plan="office-pbx", employees=10, options=("crm-integration",))
    url = urlsplit(signup_url(deal, at=NOW))
    query = parse_qs(url.query)
    assert url.path == "/signup/"
    assert query["plan"] == ["office-pbx"] and query["employees"] == ["10"]
    assert query["options"] == ["crm-integration"]
    assert deal_of_token(query["deal"][0], at=NOW) == deal
    assert deal.stage == Stage.LEAD
