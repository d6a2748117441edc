"""Phone numbers as visitors type them, normalised to E.164."""

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from ringup.site.models import phone_prefix
from ringup.site.phones import normalise

MOBILES = ["+79161234567", "+79857654321", "+79031112233"]


def notations(e164: str):
    """The ways Russians write one mobile number: +7 or 8, with spaces, dashes, brackets."""
    digits = e164[2:]  # 10 digits after +7
    operator, rest = digits[:3], digits[3:]
    return st.sampled_from(["+7", "8", "+7 ", "8 "]).flatmap(
        lambda trunk: st.sampled_from(
            [
                f"{trunk}{operator}{rest}",
                f"{trunk}({operator}) {rest[:3]}-{rest[3:5]}-{rest[5:]}",
                f"{trunk}{operator} {rest[:3]} {rest[3:5]} {rest[5:]}",
                f"{trunk}-{operator}-{rest[:3]}-{rest[3:]}",
            ]
        )
    )


@given(st.sampled_from(MOBILES).flatmap(lambda n: st.tuples(st.just(n), notations(n))))
def test_every_notation_of_a_mobile_number_is_one_e164(case):
    e164, typed = case
    assert normalise(typed) == e164


@pytest.mark.parametrize(
    "typed, message",
    [
        ("12345", "valid phone number"),
        ("not a number", "valid phone number"),
        ("+7 495 123-45-67", "mobile number"),  # a Moscow landline cannot get an SMS
    ],
)
def test_what_is_refused(typed, message):
    with pytest.raises(ValidationError, match=message):
        normalise(typed)


def test_a_number_abroad_keeps_its_country():
    assert normalise("+49 151 23456789") == "+4915123456789"


def test_the_prefix_is_the_first_seven_digits():
    assert phone_prefix("+79161234567") == "7916123"
