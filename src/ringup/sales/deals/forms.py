"""The deal page's forms: new deal, stage, offer, bill upload, invoice summary, TCO and
deployment questionnaire. Each turns into the services' arguments; the services check
what only they can (transitions, pricing)."""

from decimal import Decimal

from django import forms
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Option, Plan, Segment

from .models import LostReason, Stage
from .services.bills import FORMAT_LABELS, FORMATS
from .services.tco import DEPLOYMENT_CHOICES, ON_PREMISE_FIELDS

MONEY = {"max_digits": 12, "decimal_places": 2, "min_value": Decimal(0)}


def _staff_choices():
    return forms.ModelChoiceField(
        queryset=get_user_model()
        .objects.filter(is_staff=True, is_active=True)
        .order_by("username"),
        required=False,
        label=_("Owner"),
    )


class NewDealForm(forms.Form):
    company = forms.CharField(max_length=200, label=_("Company"))
    title = forms.CharField(max_length=200, required=False, label=_("Deal title"))
    tier = forms.ChoiceField(choices=Segment.choices, initial=Segment.SMB, label=_("Segment"))
    employees = forms.IntegerField(min_value=1, initial=10, label=_("Employees"))
    sites = forms.IntegerField(min_value=1, initial=1, label=_("Sites"))
    lines = forms.IntegerField(min_value=1, initial=4, label=_("Lines now"))
    current_provider = forms.CharField(max_length=200, required=False, label=_("Current provider"))
    email = forms.EmailField(required=False, label=_("Company e-mail"))
    phone = forms.CharField(max_length=20, required=False, label=_("Company phone"))
    country = forms.CharField(max_length=2, initial="RU", label=_("Country"))
    language = forms.ChoiceField(choices=settings.LANGUAGES, initial="ru", label=_("Language"))
    contact_name = forms.CharField(max_length=200, required=False, label=_("Contact"))
    contact_role = forms.CharField(max_length=100, required=False, label=_("Role"))
    contact_email = forms.EmailField(required=False, label=_("Contact e-mail"))
    contact_phone = forms.CharField(max_length=20, required=False, label=_("Contact phone"))
    owner = _staff_choices()
    expected_mrr = forms.DecimalField(required=False, label=_("Expected MRR"), **MONEY)
    next_step = forms.CharField(max_length=200, required=False, label=_("Next step"))
    next_step_on = forms.DateField(
        required=False, label=_("Next step on"), widget=forms.DateInput(attrs={"type": "date"})
    )


class StageForm(forms.Form):
    stage = forms.ChoiceField(choices=Stage.choices, label=_("Move to"))
    reason = forms.ChoiceField(
        choices=[("", "—"), *LostReason.choices], required=False, label=_("Reason if lost")
    )
    note = forms.CharField(max_length=300, required=False, label=_("Note"))

    def clean(self):
        data = super().clean()
        if data.get("stage") == Stage.LOST and not data.get("reason"):
            self.add_error("reason", _("Say why the deal is lost."))
        return data


class NextStepForm(forms.Form):
    owner = _staff_choices()
    next_step = forms.CharField(max_length=200, required=False, label=_("Next step"))
    next_step_on = forms.DateField(
        required=False, label=_("On"), widget=forms.DateInput(attrs={"type": "date"})
    )
    expected_mrr = forms.DecimalField(required=False, label=_("Expected MRR"), **MONEY)


class OfferForm(forms.Form):
    plan = forms.ModelChoiceField(
        queryset=Plan.objects.all(), to_field_name="code", label=_("Plan"), empty_label=None
    )
    employees = forms.IntegerField(min_value=1, label=_("Employees"))
    numbers = forms.IntegerField(min_value=0, required=False, label=_("Local numbers"))
    options = forms.ModelMultipleChoiceField(
        queryset=Option.objects.order_by("name"),
        to_field_name="code",
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Options"),
    )


class TariffFields(forms.Form):
    """What the prospect pays besides the calls, and their per-minute rates."""

    line_rental = forms.DecimalField(required=False, label=_("Line rental a month"), **MONEY)
    fixed_fees = forms.DecimalField(required=False, label=_("Other fixed fees a month"), **MONEY)


class CdrUploadForm(TariffFields):
    file = forms.FileField(label=_("Call records (CSV)"))
    format = forms.ChoiceField(
        choices=[(f, FORMAT_LABELS.get(f, f)) for f in FORMATS],
        initial="generic",
        label=_("Format"),
    )
    country = forms.CharField(max_length=2, initial="RU", label=_("Country"))
    home_area = forms.CharField(
        max_length=15,
        required=False,
        label=_("Home area"),
        help_text=_("Digits of a number in the office's area, e.g. 7495; blank: from the calls."),
    )
    cost_column = forms.CharField(
        max_length=60,
        required=False,
        label=_("Cost column"),
        help_text=_("The file's column with what each call cost them, if any."),
    )
    rate_local = forms.DecimalField(required=False, label=_("Local, per min"), **MONEY)
    rate_long_distance = forms.DecimalField(
        required=False, label=_("Long distance, per min"), **MONEY
    )
    rate_mobile = forms.DecimalField(required=False, label=_("Mobile, per min"), **MONEY)
    rate_international = forms.DecimalField(
        required=False, label=_("International, per min"), **MONEY
    )

    def rates(self) -> dict | None:
        """The per-minute rates entered (a category left blank costs nothing)."""
        data = self.cleaned_data
        names = ("local", "long_distance", "mobile", "international")
        if all(data.get(f"rate_{name}") is None for name in names):
            return None
        return {name: data.get(f"rate_{name}") or Decimal(0) for name in names}


SUMMARY_CATEGORIES = ("local", "long_distance", "mobile", "international", "toll_free")


class SummaryMonthForm(forms.Form):
    """One month of the prospect's invoices."""

    month = forms.RegexField(
        regex=r"^\d{4}-(0[1-9]|1[0-2])$",
        label=_("Month (YYYY-MM)"),
        error_messages={"invalid": _("Enter the month as YYYY-MM, e.g. 2025-03.")},
    )
    local = forms.DecimalField(min_value=0, decimal_places=1, initial=0, label=_("Local min"))
    long_distance = forms.DecimalField(
        min_value=0, decimal_places=1, initial=0, label=_("Long-distance min")
    )
    mobile = forms.DecimalField(min_value=0, decimal_places=1, initial=0, label=_("Mobile min"))
    international = forms.DecimalField(
        min_value=0, decimal_places=1, initial=0, label=_("International min")
    )
    toll_free = forms.DecimalField(
        min_value=0, decimal_places=1, initial=0, label=_("Toll-free min")
    )
    usage_charges = forms.DecimalField(label=_("Call charges"), **MONEY)
    line_rental = forms.DecimalField(required=False, label=_("Line rental"), **MONEY)
    fixed_fees = forms.DecimalField(required=False, label=_("Fixed fees"), **MONEY)

    def row(self) -> dict:
        data = self.cleaned_data
        return {
            "month": data["month"],
            "minutes": {name: data[name] for name in SUMMARY_CATEGORIES},
            "usage_charges": data["usage_charges"],
            "line_rental": data.get("line_rental") or Decimal(0),
            "fixed_fees": data.get("fixed_fees") or Decimal(0),
        }


SummaryFormSet = forms.formset_factory(SummaryMonthForm, extra=0, min_num=1, max_num=24)


class TcoForm(forms.Form):
    """On-premise inputs (defaults from the deal's lines and employees), the horizon and
    the discount rate; the hosted side comes from the proposed offer and the bill."""

    years = forms.IntegerField(min_value=1, max_value=5, initial=3, label=_("Years"))
    discount_rate = forms.DecimalField(
        min_value=0, max_value=100, decimal_places=2, initial=10, label=_("Discount rate, %/year")
    )
    hosted_phones = forms.DecimalField(label=_("Phones for hosted"), required=False, **MONEY)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label in ON_PREMISE_FIELDS:
            self.fields[name] = forms.DecimalField(label=label, **MONEY)


class DeploymentForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for name, label, choices in DEPLOYMENT_CHOICES:
            if choices is None:
                self.fields[name] = forms.IntegerField(min_value=1, label=label)
            else:
                self.fields[name] = forms.ChoiceField(choices=choices, label=label)


class ShareForm(forms.Form):
    days = forms.IntegerField(min_value=1, max_value=90, initial=30, label=_("Valid for, days"))
