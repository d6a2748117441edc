"""Attribution through the real sign-up: a sign-up carrying a customer's code becomes
their referral when the e-mail address is verified, whichever event the worker handles
first; self-referrals (same e-mail, same phone) and rings earn nothing."""

import pytest
import time_machine

from ringup.marketing.referrals.models import Referral
from ringup.marketing.referrals.selectors import referral_link, referral_summary
from ringup.marketing.referrals.services import ALPHABET, code_for
from tests.site.helpers import sign_up as sign_up_by_form

from .conftest import REGISTERED, deliver
from .helpers import SIGNED_UP, mails_to, sign_up, verify_email

pytestmark = pytest.mark.django_db


def test_the_code_is_short_unambiguous_unique_and_the_link_carries_it(referrer, settings):
    code = code_for(referrer, at=REGISTERED)
    assert len(code.code) == 7 and set(code.code) <= set(ALPHABET)
    assert not set(code.code) & set("IL01O")
    assert code_for(referrer, at=REGISTERED) == code  # created once
    assert referral_link(referrer) == f"{settings.PUBLIC_URL}/?ref={code.code}"


def test_a_referred_sign_up_joins_and_the_referrer_is_told_in_their_language(
    client, referrer, program
):
    code = code_for(referrer, at=REGISTERED).code
    customer = sign_up(client, "boris@example.com", "+79167654321", code.lower())
    deliver()
    referral = Referral.objects.get()
    assert (referral.referrer, referral.referred, referral.status) == (
        referrer,
        customer,
        Referral.Status.JOINED,
    )
    assert referral.code == code
    (notice,) = mails_to(referrer.email)
    assert "зарегистрировался" in notice.subject and "b***@example.com" in notice.text
    assert "boris@example.com" not in notice.text
    assert referral_summary(referrer)["joined"] == 1


def test_attribution_holds_when_the_verification_is_handled_after_the_sign_up(
    client, referrer, program
):
    code = code_for(referrer, at=REGISTERED).code
    sign_up(client, "boris@example.com", "+79167654321", code, verify=False)
    deliver()
    assert Referral.objects.get().status == Referral.Status.SIGNED_UP
    verify_email(client, "boris@example.com")
    deliver()
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.JOINED and referral.referred is not None
    deliver()
    assert len(mails_to(referrer.email)) == 1  # told once


@pytest.mark.parametrize(
    "email, phone, reason",
    [
        # The same address with a +tag and other capitals is the same person.
        ("irina.sokolova+trial@EXAMPLE.com", "+79167654321", "same_email"),
        # The referrer's number, typed the national way.
        ("other@example.com", "8 903 111-22-33", "same_phone"),
    ],
)
def test_self_referral_is_rejected_with_its_reason(client, referrer, program, email, phone, reason):
    sign_up(client, email, phone, code_for(referrer, at=REGISTERED).code)
    deliver()
    referral = Referral.objects.get()
    assert (referral.status, referral.reason) == (Referral.Status.REJECTED, reason)
    assert mails_to(referrer.email) == []
    assert referral_summary(referrer) == {
        "invited": 0,
        "signed_up": 1,
        "joined": 0,
        "bought": 0,
        "rejected": 1,
        "rewards_earned": 0,
        "currency": "RUB",
    }


def test_a_ring_earns_nothing(client, referrer, program):
    """Irina refers Boris; Boris's code then brings a second account of Irina (her
    address, another phone): A → B → A is rejected."""
    boris = sign_up(
        client, "boris@example.com", "+79167654321", code_for(referrer, at=REGISTERED).code
    )
    deliver()
    sign_up(
        client, "irina.sokolova@example.com", "+79160001122", code_for(boris, at=REGISTERED).code
    )
    deliver()
    ring = Referral.objects.get(referrer=boris)
    assert (ring.status, ring.reason) == (Referral.Status.REJECTED, "ring")
    assert Referral.objects.get(referrer=referrer).status == Referral.Status.JOINED


def test_an_unknown_code_records_nothing(client, referrer, program):
    sign_up(client, "boris@example.com", "+79167654321", "NOSUCH7")
    deliver()
    assert Referral.objects.count() == 0


def test_the_link_kept_in_the_session_attributes_the_sign_up_form(client, referrer, program):
    """The visitor opens the referral link, browses, and signs up through the site's form
    (which carries no code itself): the session's code makes the referral."""
    link = referral_link(referrer)
    with time_machine.travel(SIGNED_UP, tick=False):
        assert client.get("/?" + link.split("?", 1)[1]).status_code == 200
        sign_up_by_form(client, email="boris@example.com", phone="+79167654321")
    verify_email(client, "boris@example.com")
    deliver()
    referral = Referral.objects.get()
    assert referral.status == Referral.Status.JOINED
    assert referral.code == code_for(referrer, at=REGISTERED).code
