"""The trial sign-up form: allauth's (e-mail, phone, password) plus the offer it carries
as hidden fields, checked against the catalog and the trial guards."""

from allauth.account.forms import SignupForm
from allauth.core import context
from django import forms
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from ringup.catalog import selectors

from . import calculator, phones
from . import offer as offers
from . import signup as signups


class PhoneField(forms.CharField):
    """A mobile number in any usual notation, cleaned to E.164."""

    def __init__(self, **kwargs):
        kwargs.setdefault(
            "widget",
            forms.TextInput(
                attrs={
                    "type": "tel",
                    "autocomplete": "tel",
                    "inputmode": "tel",
                    "placeholder": "+7 916 123-45-67",
                }
            ),
        )
        kwargs.setdefault("label", _("Mobile phone"))
        kwargs.setdefault("max_length", 32)
        kwargs.setdefault(
            "help_text", _("We send a code by SMS to confirm it. One free trial per number.")
        )
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        return phones.normalise(value) if value else value


def default_plan_code() -> str:
    plan = calculator.default_plan(selectors.public_plans())
    return plan.code if plan else ""


class TrialSignupForm(SignupForm):
    """Sign-up for a free trial of the offer in the hidden fields."""

    field_order = ["email", "phone", "password1"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.priced: offers.PricedOffer | None = None
        self.deal = None
        self.fields["phone"].label = _("Mobile phone")
        email = self.fields["email"]
        email.label = _("Work e-mail")
        email.help_text = _("We send a link to confirm it; it becomes your login.")
        email.widget.attrs.update({"placeholder": "you@company.com", "autocomplete": "email"})
        password = self.fields["password1"]
        password.widget.attrs.update({"placeholder": "", "autocomplete": "new-password"})
        password.help_text = _("At least 8 characters; not only digits, not a common word.")

    def clean(self):
        cleaned = super().clean()
        request = context.request
        codes = request.session.get(offers.REFERRAL_SESSION_KEY, {}) if request else {}
        try:
            self.priced = offers.parse(self.data, default_plan=default_plan_code(), codes=codes)
        except offers.OfferError as error:
            self.add_error(
                None,
                _("This offer cannot be sold: %(reasons)s.")
                % {"reasons": "; ".join(error.errors.values())},
            )
        # A deal's trial link, if still usable; the page showed why when it is not, and
        # the sign-up is then a normal one.
        self.deal = signups.deal_of(self.data, at=timezone.now())[0]
        # allauth refuses an address or number already used (adapter.get_user_by_phone).
        phone = cleaned.get("phone")
        if phone and not self.errors and not signups.consume_prefix_limit(request, phone):
            self.add_error(
                "phone",
                _("Too many sign-ups for numbers like this one today. Please try again later."),
            )
        return cleaned

    def registration(self, request) -> signups.Registration:
        """What :func:`signup.register` writes, from the valid form."""
        assert self.priced is not None
        return signups.Registration(
            email=self.cleaned_data["email"],
            phone=self.cleaned_data["phone"],
            language=get_language() or "en",
            ip=request.META.get("REMOTE_ADDR") or None,
            priced=self.priced,
            deal=self.deal,
        )
