"""A promo code in a buy link or on the calculator shows its discount (or why not)."""

import re
from datetime import timedelta

import pytest

from .conftest import MARCH_1

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def clock(time_machine):
    time_machine.move_to(MARCH_1 + timedelta(hours=1), tick=False)


def test_the_buy_link_shows_the_discount(client, catalog, promotion):
    """Office PBX, 10 employees: 1,640.00; START 20% → 328.00 off the first month,
    1,312.00 to pay for it."""
    promotion("START", name="Start")
    html = client.get("/buy/office-pbx/?employees=10&promo=START").content.decode()
    assert 'data-testid="promo-note">Start: 328.00 RUB off the first period<' in html
    assert "Promo code START (Start), first period" in html
    assert re.search(r'data-testid="period-total">([^<]*)<', html).group(1) == "₽1,312.00"


def test_a_code_that_does_not_apply_says_why(client, catalog, promotion):
    promotion("YEARLY", annual_only=True)
    html = client.get("/buy/office-pbx/?employees=10&promo=YEARLY").content.decode()
    assert 'data-testid="promo-note">Not applied: valid only with annual billing<' in html
    assert "Promo code YEARLY" not in html


def test_the_calculator_carries_the_code_from_the_session(client, catalog, promotion):
    promotion("START", name="Start")
    client.get("/?promo=START")
    html = client.get("/pricing/?plan=office-pbx&employees=10").content.decode()
    assert "Promo code START (Start), first period" in html
