"""Phone numbers typed by visitors, normalised to E.164 with phonenumbers."""

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

#: Types an SMS code can reach.
MOBILE = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise(text: str) -> str:
    """``text`` as an E.164 mobile number (``+79161234567``); a number without a country
    code is read in the operator's country (``RINGUP_PHONE_REGION``). Raises
    ``ValidationError`` with a message for the visitor."""
    try:
        number = phonenumbers.parse(text, settings.RINGUP_PHONE_REGION)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(
            _("Enter a valid phone number with its country code, e.g. +7 916 123-45-67."),
            code="invalid_phone",
        )
    if phonenumbers.number_type(number) not in MOBILE:
        raise ValidationError(
            _("We send a confirmation code by SMS: please enter a mobile number."),
            code="not_mobile",
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
