"""The sign-up's login stage: the SMS code of a trial's phone."""

from allauth.account.stages import PhoneVerificationStage
from allauth.core.exceptions import RateLimited
from allauth.core.ratelimit import respond_429

from . import signup as signups


class TrialPhoneStage(PhoneVerificationStage):
    """Asks for the SMS code of a trial's phone; logins without a trial sign-up (people
    the sales team invited) have no phone to confirm here."""

    def handle(self):
        if self.login.user is not None and signups.phone_of(self.login.user) is None:
            return None, True
        try:
            return super().handle()
        except RateLimited:  # a code went to this number moments ago: log in again later
            return respond_429(self.request), False
