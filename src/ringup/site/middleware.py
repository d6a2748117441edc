"""Referral and promo codes from any page's link (``/?ref=FRIEND42``, ``/pricing/?promo=
SPRING``) are kept in the session, so the sign-up a few pages later still carries them."""

from django.core.exceptions import ValidationError

from .forms import code_validator
from .offer import REFERRAL_SESSION_KEY

CODES = ("ref", "promo")


class ReferralMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        found = {name: request.GET[name] for name in CODES if request.GET.get(name)}
        valid = {name: value for name, value in found.items() if _is_code(value)}
        if valid:
            request.session[REFERRAL_SESSION_KEY] = {
                **request.session.get(REFERRAL_SESSION_KEY, {}),
                **valid,
            }
        return self.get_response(request)


def _is_code(value: str) -> bool:
    try:
        code_validator(value)
    except ValidationError:
        return False
    return True
