"""Naming acquaintances (through the API the portal's form uses): the bonus at three, the
extra bonus when one of them buys; the program's API and back office."""

from decimal import Decimal as D

import pytest

from ringup.billing.models import Invoice
from ringup.marketing.referrals.models import Invitation, Referral, Reward
from ringup.marketing.referrals.services import code_for

from .conftest import REGISTERED, deliver
from .helpers import mails_to, sign_up
from .test_rewards import APRIL_5, MARCH_1, bill, pay, subscribe

pytestmark = pytest.mark.django_db

FRIENDS = [
    {"name": "Борис Петров", "email": "Boris@Example.com"},
    {"name": "Ольга Ким", "phone": "8 916 000-11-22"},
    {"name": "Пётр Иванов", "email": "petr@example.com", "phone": "+79160003344"},
]


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_user("marketing", "m@example.com", "pw-12345!")
    user.is_staff = user.is_superuser = True
    user.save()
    client.force_login(user)
    return client


def invite(client, customer, people):
    return client.post(
        f"/api/v1/referrals/customers/{customer.pk}/invitations",
        {"invitations": people},
        content_type="application/json",
    )


def test_three_acquaintances_earn_the_bonus_once_and_a_thank_you(staff, referrer, program):
    response = invite(staff, referrer, FRIENDS[:2])
    assert response.json() == {"created": 2, "invited": 2}
    assert Reward.objects.count() == 0  # two are not enough
    assert invite(staff, referrer, FRIENDS).json() == {"created": 1, "invited": 3}
    (bonus,) = Reward.objects.all()
    assert (bonus.kind, bonus.amount, bonus.credit.amount) == (
        "invitations",
        D("300.00"),
        D("300.00"),
    )
    invite(staff, referrer, [{"name": "Анна", "email": "anna@example.com"}])
    assert Reward.objects.count() == 1  # once per referrer
    assert Invitation.objects.get(name="Ольга Ким").phone == "+79160001122"
    deliver()
    thanks = [m for m in mails_to(referrer.email) if "Спасибо" in m.subject]
    assert len(thanks) == 3 and any("Пётр Иванов" in m.text for m in thanks)


def test_bad_invitations_are_422_naming_the_field(staff, referrer, program):
    response = invite(
        staff,
        referrer,
        [{"name": "Борис", "email": "not-an-address"}, {"name": "Я", "phone": "+7 903 111-22-33"}],
    )
    assert response.status_code == 422
    fields = {".".join(map(str, item["loc"][1:])) for item in response.json()["detail"]}
    assert fields == {"invitations.0.email", "invitations.1.phone"}
    assert Invitation.objects.count() == 0


def test_a_named_acquaintance_who_signs_up_and_buys_earns_the_extra_bonus(
    client, staff, referrer, program
):
    """Boris was named with his address and signs up without any code: he is Irina's
    referral. His first payment (1,640.00) earns 7.5% = 123.00 plus the 500.00 bonus."""
    invite(staff, referrer, FRIENDS)
    client.logout()
    boris = sign_up(client, "boris@example.com", "+79167654321")
    deliver()
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referred, referral.status) == (
        referrer,
        boris,
        Referral.Status.JOINED,
    )
    assert referral.code == code_for(referrer, at=REGISTERED).code
    subscribe(boris)
    bill("2025-03-31")
    pay(Invoice.objects.get(customer=boris, period_start=MARCH_1), APRIL_5)
    deliver()
    earned = {r.kind: r.amount for r in Reward.objects.filter(referral=referral)}
    assert earned == {"invitation_buy": D("500.00"), "percentage": D("123.00")}
    bought = [m for m in mails_to(referrer.email) if "стал клиентом" in m.subject]
    assert "623.00 RUB" in bought[0].text


def test_the_api_serves_the_code_the_program_and_the_referrals(staff, client, referrer, program):
    code = staff.get(f"/api/v1/referrals/customers/{referrer.pk}/code").json()
    assert code["link"].endswith(f"/?ref={code['code']}")
    program_out = staff.patch(
        "/api/v1/referrals/program",
        {"reward_kind": "fixed", "fixed_bonus": "750.00"},
        content_type="application/json",
    ).json()
    assert (program_out["reward_kind"], program_out["fixed_bonus"]) == ("fixed", "750.00")
    bad = staff.patch(
        "/api/v1/referrals/program", {"percentage": "101"}, content_type="application/json"
    )
    assert bad.status_code == 422
    assert staff.get("/api/v1/referrals/customers/999999/code").status_code == 404
    listed = staff.get(f"/api/v1/referrals?customer={referrer.pk}").json()
    assert listed == []
    summary = staff.get(f"/api/v1/referrals/customers/{referrer.pk}/summary").json()
    assert summary["rewards_earned"] == "0.00"
    client.logout()
    assert client.get("/api/v1/referrals/program").status_code == 401


def test_the_back_office_lists_the_program(staff, referrer, program):
    for url in [
        "/admin/referrals/referralprogram/1/change/",
        "/admin/referrals/referral/",
        "/admin/referrals/reward/",
        "/admin/referrals/referralcode/add/",
        "/admin/referrals/invitation/",
        "/admin/referrals/clawback/",
    ]:
        assert staff.get(url).status_code == 200, url
