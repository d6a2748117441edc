"""Forms of the portal: the profile, e-mail choices, acquaintances to invite, and reading
a change to preview."""

import phonenumbers
from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, pgettext_lazy

from ringup.billing.services.subscriptions import KEEP, ChangeRequest
from ringup.catalog.models import Plan
from ringup.engine.pricing import SelectionError

from .models import Language
from .selectors import Service


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=200, label=gettext_lazy("Company or your name"))
    phone = forms.CharField(
        max_length=32,
        required=False,
        label=gettext_lazy("Phone"),
        help_text=gettext_lazy("For example +7 495 123-45-67"),
    )
    language = forms.ChoiceField(
        choices=Language.choices, label=gettext_lazy("Language of e-mails and help pages")
    )

    def __init__(self, *args, country: str = "RU", **kwargs):
        super().__init__(*args, **kwargs)
        self.country = country

    def clean_phone(self) -> str:
        return e164(self.cleaned_data["phone"], self.country)


def e164(raw: str, country: str) -> str:
    """The phone number in E.164, as every other part of Ringup stores them ("" for none);
    raises a ``ValidationError`` saying what is wrong."""
    raw = raw.strip()
    if not raw:
        return ""
    try:
        number = phonenumbers.parse(raw, country or "RU")
    except phonenumbers.NumberParseException:
        raise forms.ValidationError(_("Enter a phone number, e.g. +7 495 123-45-67")) from None
    if not phonenumbers.is_valid_number(number):
        raise forms.ValidationError(_("This is not a valid phone number"))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class AcquaintanceForm(forms.Form):
    """One acquaintance to invite: a name and an e-mail address or a phone number. A row
    left empty is skipped."""

    name = forms.CharField(
        max_length=200, required=False, label=pgettext_lazy("acquaintance", "Name")
    )
    email = forms.EmailField(required=False, label=gettext_lazy("E-mail"))
    phone = forms.CharField(max_length=32, required=False, label=gettext_lazy("Phone"))

    def __init__(self, *args, country: str = "RU", **kwargs):
        super().__init__(*args, **kwargs)
        self.country = country

    def clean_phone(self) -> str:
        return e164(self.cleaned_data["phone"], self.country)

    def clean(self):
        data = super().clean()
        if self.is_blank():
            return data
        if not (data.get("name") or "").strip():
            self.add_error("name", _("Give the name"))
        if not data.get("email") and not data.get("phone") and not self.errors:
            self.add_error("email", _("Give an e-mail address or a phone number"))
        return data

    def is_blank(self) -> bool:
        return not any((self.data.get(self.add_prefix(name)) or "").strip() for name in self.fields)


#: Up to five acquaintances at a time; the referral program's own refusals (the
#: customer's own address or number) come back under the row they concern.
AcquaintanceFormSet = forms.formset_factory(AcquaintanceForm, extra=5, max_num=5)
REFUSALS = {
    "that is your own address": gettext_lazy("That is your own address"),
    "that is your own number": gettext_lazy("That is your own number"),
    "not a valid e-mail address": gettext_lazy("Enter a valid email address."),
    "not a valid phone number": gettext_lazy("This is not a valid phone number"),
}


class NotificationForm(forms.Form):
    invoices = forms.BooleanField(required=False, label=gettext_lazy("A new invoice is issued"))
    trial_reminders = forms.BooleanField(
        required=False, label=gettext_lazy("My trial ends soon, or has ended")
    )
    product_news = forms.BooleanField(
        required=False,
        label=gettext_lazy("Product news and offers (a few times a month at most)"),
    )


def change_request(data, service: Service) -> ChangeRequest:
    """The change asked for by the query ``data`` of a preview link or form:

    * ``add=CODE`` / ``remove=CODE``: one option more or less, the rest kept;
    * ``options=1`` with ``option=CODE`` repeated: the whole set of options wanted;
    * ``employees=N``, ``numbers=N``; ``plan=CODE`` (options the new plan also offers are
      kept); ``package=CODE`` or ``package=none`` for the minute bundle.

    Raises :class:`SelectionError` naming the field for anything else.
    """
    current = [option.code for option in service.options]
    offered = current + [option.code for option in service.addable]
    options: tuple[str, ...] | None = None
    if data.get("add"):
        code = data["add"]
        if code not in offered:
            raise SelectionError({"add": _("this option is not offered on your plan")})
        options = tuple(sorted({*current, code}))
    elif data.get("remove"):
        code = data["remove"]
        if code not in current:
            raise SelectionError({"remove": _("this option is not on your subscription")})
        options = tuple(code_ for code_ in current if code_ != code)
    elif data.get("options"):
        wanted = data.getlist("option")
        unknown = set(wanted) - set(offered)
        if unknown:
            raise SelectionError(
                {"option": _("not offered on your plan: %(codes)s") % {"codes": ", ".join(unknown)}}
            )
        options = tuple(sorted(set(wanted)))
    employees = _whole(data, "employees")
    numbers = _whole(data, "numbers")
    package = data.get("package") or KEEP
    if package == "none":
        package = None
    plan = data.get("plan") or None
    if plan == service.subscription.plan.code:
        plan = None
    elif plan is not None and not Plan.objects.filter(code=plan, is_public=True).exists():
        raise SelectionError({"plan": _("no such plan")})
    return ChangeRequest(
        plan=plan, employees=employees, numbers=numbers, options=options, traffic_package=package
    )


def _whole(data, field: str) -> int | None:
    if not data.get(field):
        return None
    try:
        return int(data[field])
    except ValueError:
        raise SelectionError({field: _("enter a whole number")}) from None
