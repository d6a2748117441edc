"""The portal's "Recommend us" page: the program's terms, naming acquaintances (the
bonus at three), the program's refusals on their row, and what became of each one."""

from decimal import Decimal

import pytest
from django.conf import settings

from ringup.billing.models import AccountCredit
from ringup.customers.models import Customer
from ringup.marketing.referrals.models import Invitation, Referral, ReferralProgram
from tests.wording import RU, english_wording

from .conftest import NOW

pytestmark = pytest.mark.django_db
URL = "/portal/referrals/"


def rows(*people, total=5) -> dict:
    """The form's POST: ``people`` as (name, email, phone), the other rows empty."""
    data = {
        "people-TOTAL_FORMS": str(total),
        "people-INITIAL_FORMS": "0",
        "people-MIN_NUM_FORMS": "0",
        "people-MAX_NUM_FORMS": "5",
    }
    for index in range(total):
        name, email, phone = people[index] if index < len(people) else ("", "", "")
        data |= {
            f"people-{index}-name": name,
            f"people-{index}-email": email,
            f"people-{index}-phone": phone,
        }
    return data


def test_the_page_explains_the_bonus(alice_client):
    """Default program: 10% of payments for 12 months, 3 names → 300.00, a buyer → 500.00."""
    html = alice_client.get(URL).content.decode()
    assert "10% of each of their payments for 12 months" in html
    assert "Name 3 or more acquaintances below and get ₽300.00 at once" in html
    assert "brings you ₽500.00 more" in html
    assert "/?ref=" in html
    assert "Nobody yet" in html


def test_three_acquaintances_earn_the_bonus_once(alice_client, alice):
    """Three valid rows → three invitations, the thank-you event and the 300.00 credit;
    sending the same three again adds nothing and earns nothing."""
    three = [
        ("Олег Смирнов", "oleg@example.com", ""),
        ("Marina Volkova", "", "+7 916 555-01-02"),
        ("Андрей Козлов", "Andrey@Example.com", "8 916 555-01-03"),
    ]
    response = alice_client.post(URL, rows(*three), follow=True)
    assert response.redirect_chain == [(URL, 302)]
    assert "We have added 3 acquaintances" in response.content.decode()
    assert set(Invitation.objects.values_list("name", "email", "phone")) == {
        ("Олег Смирнов", "oleg@example.com", ""),
        ("Marina Volkova", "", "+79165550102"),
        ("Андрей Козлов", "andrey@example.com", "+79165550103"),
    }
    credit = AccountCredit.objects.get(customer=alice)
    assert credit.amount == Decimal("300.00")
    again = alice_client.post(URL, rows(*three), follow=True)
    assert "nothing new to add" in again.content.decode()
    assert Invitation.objects.count() == 3
    assert AccountCredit.objects.filter(customer=alice).count() == 1


def test_bad_rows_are_shown_on_their_row_and_nothing_is_written(alice_client):
    """A row without a contact, a bad address, a name missing, and the customer's own
    address (the program's refusal, on the fourth row): nothing is recorded."""
    response = alice_client.post(
        URL,
        rows(
            ("Без контакта", "", ""),
            ("Bad", "not-an-address", ""),
            ("", "someone@example.com", ""),
            ("Me again", "Alice@Alpha.example", ""),
        ),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Give an e-mail address or a phone number" in html
    assert "Enter a valid email address." in html
    assert "Give the name" in html
    assert not Invitation.objects.exists()
    own = alice_client.post(URL, rows(("Me again", "Alice@Alpha.example", "")))
    assert "That is your own address" in own.content.decode()
    assert not Invitation.objects.exists()
    empty = alice_client.post(URL, rows(), follow=True)
    assert "Name at least one acquaintance" in empty.content.decode()


def test_earlier_invitations_show_what_became_of_them(alice_client, alice):
    """Oleg signed up with the link and bought, Marina only joined, Andrey has not come."""
    alice_client.post(
        URL,
        rows(
            ("Oleg", "oleg@example.com", ""),
            ("Marina", "marina@example.com", ""),
            ("Andrey", "andrey@example.com", ""),
        ),
    )
    for name, status in (("Oleg", "converted"), ("Marina", "joined")):
        invitation = Invitation.objects.get(name=name)
        Referral.objects.create(
            referrer=alice,
            referred=Customer.objects.create(
                name=name, email=invitation.email, tier="micro", registered_at=NOW
            ),
            code="ABCDEFG",
            invitation=invitation,
            email=invitation.email,
            at=NOW,
            status=status,
        )
    html = alice_client.get(URL).content.decode()
    listed = html[html.index('data-testid="invited"') :]
    for name, badge in (("Oleg", "Bought"), ("Marina", "Joined"), ("Andrey", "Not yet")):
        at = listed.index(name)
        assert badge in listed[at : at + 400]
    assert "Joined: 2 · bought: 1" in listed


def test_the_page_in_russian(alice_client, alice):
    ReferralProgram.current()
    html = alice_client.get(URL, **RU).content.decode()
    assert "Порекомендуйте нас знакомым" in html
    assert english_wording(html, {alice.name, settings.OPERATOR_NAME, "E-mail"}) == []
    refused = alice_client.post(URL, rows(("Я", "alice@alpha.example", "")), **RU)
    assert "Это ваш собственный адрес" in refused.content.decode()
