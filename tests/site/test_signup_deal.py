"""Sign-up through a deal proposal's "Try free" link: the verified login and trial go to
the deal's prospect, and the deal moves to the trial stage."""

from datetime import timedelta
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.customers.models import Customer
from ringup.events.models import Event
from ringup.sales.deals.models import Stage
from ringup.sales.deals.selectors import signup_url
from ringup.sales.deals.services.deals import NewDeal, create_deal, move_deal, set_offer, win_deal
from ringup.site.models import Signup

from .helpers import form, last_mail, link_in, sign_up

pytestmark = pytest.mark.django_db


@pytest.fixture
def deal(catalog):
    """A prospect at the proposal stage, offered Office PBX for 12 with CRM integration."""
    at = timezone.now() - timedelta(days=2)
    deal = create_deal(
        NewDeal(company="Mercury Insurance", employees=12, email="office@mercury.example"),
        at=at,
    )
    set_offer(deal, plan="office-pbx", employees=12, options=("crm-integration",))
    move_deal(deal, Stage.QUALIFIED, at=at)
    return move_deal(deal, Stage.PROPOSAL, at=at)


def link_fields(deal, *, at=None) -> dict:
    """The query of the proposal's "Try free" link, as the sign-up form posts it back."""
    url = signup_url(deal, at=at or timezone.now())
    return dict(parse_qsl(urlsplit(url).query))


def confirm_email(client, to="anna@example.com"):
    return client.post(link_in(last_mail(to)))


def test_the_page_says_whose_trial_it_is(client, deal):
    fields = link_fields(deal)
    html = client.get("/signup/", fields).content.decode()
    assert "Trial for Mercury Insurance" in html
    assert f'name="deal" value="{fields["deal"]}"' in html
    assert "Try Office PBX free" in html and "CRM integration" in html


def test_the_page_and_its_notices_in_russian(client, deal):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "ru"
    html = client.get("/signup/", link_fields(deal)).content.decode()
    assert "Пробный период для Mercury Insurance" in html
    expired = link_fields(deal, at=timezone.now() - timedelta(days=31))
    html = client.get("/signup/", expired).content.decode()
    assert "Срок действия этой ссылки на пробный период истёк." in html
    assert "Ниже вы можете оформить собственный пробный период." in html


def test_verification_completes_the_prospect_and_moves_the_deal(client, deal):
    sign_up(client, **form(origin=None, period=None) | link_fields(deal))
    assert Customer.objects.count() == 1  # the prospect only, before the address is confirmed

    assert confirm_email(client)["Location"] == "/portal/"

    signup = Signup.objects.get()
    prospect = Customer.objects.get()  # still exactly one customer: the prospect
    assert signup.customer == prospect == deal.customer
    assert prospect.user == signup.user and prospect.name == "Mercury Insurance"
    assert prospect.email == "anna@example.com" and prospect.phone == "+79161234567"
    assert prospect.email_verified_at is not None and prospect.source == Customer.Source.SALES
    assert signup.source == Customer.Source.SALES

    subscription = Subscription.objects.get()
    assert subscription == signup.subscription and subscription.customer == prospect
    assert subscription.status == Subscription.Status.TRIALING
    assert subscription.plan.code == "office-pbx" and subscription.employees == 12
    assert [o.option.code for o in subscription.items.all()] == ["crm-integration"]
    assert Event.objects.get(kind="trial.started").deliveries.filter(consumer="provisioning")

    deal.refresh_from_db()
    assert deal.stage == Stage.TRIAL
    change = deal.stage_changes.last()
    assert (change.from_stage, change.to_stage) == (Stage.PROPOSAL, Stage.TRIAL)
    assert "anna@example.com" in change.note
    moved = Event.objects.filter(kind="deal.stage_changed", customer_id=prospect.pk).latest("id")
    assert moved.payload["stage"] == {"from": "proposal", "to": "trial"}

    # Winning the deal converts that trial: still one subscription, now set to be paid.
    win_deal(deal, at=timezone.now())
    deal.refresh_from_db()
    assert Subscription.objects.get() == deal.subscription == subscription
    assert deal.subscription.trial_converts and deal.stage == Stage.WON


def test_a_lead_passes_through_the_stages_to_the_trial(client, catalog):
    lead = create_deal(NewDeal(company="Kvant", employees=12), at=timezone.now())
    set_offer(lead, plan="office-pbx", employees=12)
    sign_up(client, **form(origin=None, options=None, period=None) | link_fields(lead))
    confirm_email(client)
    lead.refresh_from_db()
    assert lead.stage == Stage.TRIAL
    assert [c.to_stage for c in lead.stage_changes.all()] == [
        "lead",
        "qualified",
        "proposal",
        "trial",
    ]


def test_an_expired_link_is_a_normal_sign_up_with_a_notice(client, deal):
    fields = link_fields(deal, at=timezone.now() - timedelta(days=31))
    html = client.get("/signup/", fields).content.decode()
    assert "This trial link has expired." in html and 'name="deal"' not in html
    assert "Trial for" not in html

    sign_up(client, **form(origin=None) | fields)
    confirm_email(client)
    assert Customer.objects.count() == 2  # the prospect and the visitor's own customer
    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL and deal.customer.user is None


def test_a_prospect_with_a_login_is_not_taken_over(client, deal):
    deal.customer.user = get_user_model().objects.create_user("mercury", "it@mercury.example")
    deal.customer.save()
    fields = link_fields(deal)
    html = client.get("/signup/", fields).content.decode()
    assert "Mercury Insurance already has an account with us: log in to it." in html
    assert 'name="deal"' not in html

    sign_up(client, **form(origin=None) | fields)  # the token posted anyway: ignored
    confirm_email(client)
    signup = Signup.objects.get()
    assert signup.customer != deal.customer and signup.customer.subscriptions.count() == 1
    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL
    assert not deal.customer.subscriptions.exists()


def test_a_prospect_taken_before_verification_keeps_its_login(client, deal):
    sign_up(client, **form(origin=None) | link_fields(deal))
    # Meanwhile the prospect got a login another way (e.g. invited by its manager).
    prospect = deal.customer
    prospect.user = get_user_model().objects.create_user("mercury", "it@mercury.example")
    prospect.save()
    confirm_email(client)
    assert Customer.objects.count() == 2
    assert Signup.objects.get().customer != prospect
    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL


def test_the_one_trial_per_address_guard_still_holds(client, deal):
    sign_up(client)  # a normal trial first, with anna@example.com
    client.logout()
    response = client.post(
        "/signup/", form(origin=None, phone="+7 916 765-43-21") | link_fields(deal)
    )
    assert response.status_code == 200
    assert "already been used for a trial" in response.content.decode()
    assert Signup.objects.count() == 1
    deal.refresh_from_db()
    assert deal.stage == Stage.PROPOSAL and deal.customer.user is None
