"""How allauth fits the platform: the trial sign-up record, phone codes by SMS, branded
e-mails in the customer's language, and the trial guards' login stage."""

import logging
from smtplib import SMTPException

from allauth.account import app_settings
from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.contrib import messages
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from ringup.notifications import services as notifications

from . import signup as signups
from .account_forms import PhoneField, TrialSignupForm

log = logging.getLogger(__name__)


class AccountAdapter(DefaultAccountAdapter):
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "email_taken": signups.EMAIL_TAKEN,
        "phone_taken": signups.PHONE_TAKEN,
    }

    def save_user(self, request, user, form, commit=True):
        user = super().save_user(request, user, form, commit=commit)
        if isinstance(form, TrialSignupForm):
            signups.register(user, form.registration(request), at=timezone.now())
        return user

    def get_login_stages(self) -> list[str]:
        stage = "allauth.account.stages.PhoneVerificationStage"
        return [
            # A dotted path: allauth's stages module imports the adapter's own imports.
            "ringup.site.stages.TrialPhoneStage" if path == stage else path
            for path in super().get_login_stages()
        ]

    # Phone numbers live on the trial sign-up (site.Signup), not on the user.

    def phone_form_field(self, **kwargs):
        return PhoneField(**kwargs)

    def set_phone(self, user, phone: str, verified: bool) -> None:
        # At sign-up the number is written with the Signup right after (save_user).
        signups.Signup.objects.filter(user=user).update(
            phone=phone, phone_verified_at=timezone.now() if verified else None
        )

    def get_phone(self, user):
        return signups.phone_of(user)

    def set_phone_verified(self, user, phone: str) -> None:
        signups.phone_verified(user, at=timezone.now())

    def get_user_by_phone(self, phone: str):
        return signups.user_by_phone(phone)

    def send_verification_code_sms(self, user, phone: str, code: str, **kwargs) -> None:
        with translation.override(self._language(user)):
            text = _("%(code)s is your %(operator)s confirmation code.") % {
                "code": code,
                "operator": settings.OPERATOR_NAME,
            }
        notifications.send_sms(phone, text)

    # E-mails: the same branded layout as every other message of the platform.

    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        user = context.get("user")
        try:
            notifications.send(
                email,
                template_prefix,
                {"expiration_days": app_settings.EMAIL_CONFIRMATION_EXPIRE_DAYS, **context},
                language=self._language(user),
                subject_prefix=app_settings.EMAIL_SUBJECT_PREFIX or "",
            )
        except (SMTPException, OSError):
            # The mail server is down: say so rather than fail the page. Verification
            # and reset e-mails are sent again on the next login or request.
            log.exception("%s to %s not sent", template_prefix, email)
            if self.request is not None:
                messages.error(
                    self.request,
                    _(
                        "We could not send the e-mail just now. Please try again in a few "
                        "minutes: logging in sends a new link."
                    ),
                )

    def _language(self, user) -> str:
        signup = (
            signups.Signup.objects.filter(user=user).only("language").first()
            if (user is not None and user.pk)
            else None
        )
        return signup.language if signup else translation.get_language() or "en"
