"""Forms of the public site. They only parse what a visitor typed; whether a selection can
be sold, and at what price, is decided by the catalog's pricing service."""

from decimal import Decimal
from urllib.parse import urlencode

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from ringup.catalog.models import Plan
from ringup.catalog.services import QuoteRequest
from ringup.engine import advisor
from ringup.engine.pricing import MAX_EMPLOYEES, MAX_NUMBERS, Period

code_validator = RegexValidator(r"^[A-Za-z0-9_-]{1,40}$", _("Not a valid code."))

#: Where the engine names a field differently from the calculator form.
ENGINE_FIELDS = {"numbers.local": "extra_numbers", "numbers.tollfree": "tollfree_numbers"}


class CodeListField(forms.Field):
    """Option codes from repeated checkboxes, or from one comma-separated link parameter
    (``?options=a,b``), as buy links and the advisor's links write them."""

    widget = forms.MultipleHiddenInput

    def to_python(self, value) -> tuple[str, ...]:
        items = value if isinstance(value, list | tuple) else [value or ""]
        codes: list[str] = []
        for item in items:
            for code in str(item).split(","):
                if code.strip() and code.strip() not in codes:
                    codes.append(code.strip())
        return tuple(codes)

    def validate(self, value):
        super().validate(value)
        for code in value:
            code_validator(code)


class CalculatorForm(forms.Form):
    """A selection on one plan (chosen by the view), from the calculator, a pre-filled
    link or a buy link."""

    employees = forms.IntegerField(required=False, min_value=0, max_value=MAX_EMPLOYEES)
    extra_numbers = forms.IntegerField(required=False, min_value=0, max_value=MAX_NUMBERS)
    tollfree_numbers = forms.IntegerField(required=False, min_value=0, max_value=MAX_NUMBERS)
    options = CodeListField(required=False)
    traffic_package = forms.CharField(required=False, max_length=40)
    period = forms.ChoiceField(required=False, choices=[(p.value, p.value) for p in Period])
    customer_name = forms.CharField(required=False, max_length=200)
    discount_percent = forms.DecimalField(
        required=False, min_value=0, max_value=100, max_digits=5, decimal_places=2
    )
    #: The page that filled the calculator in, kept so the saved quote says where it began.
    origin = forms.ChoiceField(
        required=False, choices=[("advisor", "advisor"), ("calculator", "calculator")]
    )

    def clean_traffic_package(self) -> str:
        package = self.cleaned_data["traffic_package"]
        if package:
            code_validator(package)
        return package

    def quote_request(self, plan: Plan, *, manager_mode: bool) -> QuoteRequest:
        """The pricing request; the manager's fields count only in manager mode, so a
        visitor cannot give themself a discount by adding a parameter."""
        data = self.cleaned_data
        extra = data["extra_numbers"] or 0
        return QuoteRequest(
            plan=plan.code,
            employees=data["employees"],
            numbers=plan.included_numbers + extra if extra else None,
            tollfree_numbers=data["tollfree_numbers"] or 0,
            options=data["options"],
            traffic_package=data["traffic_package"] or None,
            period=data["period"] or Period.MONTHLY.value,
            discount_percent=(data["discount_percent"] or Decimal(0))
            if manager_mode
            else Decimal(0),
            customer_name=data["customer_name"] if manager_mode else "",
        )

    def add_engine_errors(self, plan: Plan, errors: dict[str, str]) -> None:
        """Show the engine's messages at their fields, naming the plan as the page does."""
        for field, message in errors.items():
            name = ENGINE_FIELDS.get(field, field)
            text = message.replace(f"plan {plan.code}", plan.name)
            self.add_error(name if name in self.fields else None, text[:1].upper() + text[1:])


def selection_query(
    *,
    plan: str | None = None,
    employees: int | None = None,
    extra_numbers: int = 0,
    tollfree_numbers: int = 0,
    options=(),
    traffic_package: str | None = None,
    period: str = Period.MONTHLY.value,
    origin: str = "",
) -> str:
    """The query string that pre-fills the calculator (or a buy link) with a selection;
    defaults are left out so links stay short and readable."""
    params = {
        "plan": plan,
        "employees": employees,
        "extra_numbers": extra_numbers,
        "tollfree_numbers": tollfree_numbers,
        "options": ",".join(options),
        "traffic_package": traffic_package,
        "period": "" if period == Period.MONTHLY.value else period,
        "origin": origin,
    }
    return urlencode({key: value for key, value in params.items() if value})


MISSED_CALL_COSTS = [
    (advisor.MissedCallCost.LOW.value, _("Low"), _("Callers ring back or leave a message")),
    (advisor.MissedCallCost.MEDIUM.value, _("Medium"), _("Some callers try a competitor")),
    (advisor.MissedCallCost.HIGH.value, _("High"), _("A missed call is a lost client")),
]


#: The advisor's needs as the form labels them; the engine words them in English only.
NEED_LABELS = {
    "internal_calls": _("Short internal numbers and free calls between employees"),
    "ivr": _("A voice menu (IVR)"),
    "queues": _("Call queues with distribution between agents"),
    "call_recording": _("Call recording"),
    "crm_integration": _("CRM integration"),
    "tollfree_number": _("A toll-free 8-800 number"),
    "mobile_integration": _("Mobile integration (employees' mobiles as extensions)"),
}


class AdvisorForm(forms.Form):
    employees = forms.IntegerField(min_value=1, max_value=MAX_EMPLOYEES, initial=10)
    agents = forms.IntegerField(required=False, min_value=0, max_value=MAX_EMPLOYEES, initial=0)
    calls_per_day = forms.IntegerField(
        required=False, min_value=0, max_value=10_000_000, initial=30
    )
    missed_call_cost = forms.ChoiceField(
        required=False,
        choices=[(code, label) for code, label, _text in MISSED_CALL_COSTS],
        initial=advisor.MissedCallCost.MEDIUM.value,
        widget=forms.RadioSelect,
    )
    needs = forms.MultipleChoiceField(
        required=False,
        choices=[
            (code, NEED_LABELS.get(code, text[:1].upper() + text[1:]))
            for code, text in advisor.NEEDS.items()
        ],
        widget=forms.CheckboxSelectMultiple,
    )

    def answers(self) -> advisor.Answers:
        data = self.cleaned_data
        return advisor.Answers(
            employees=data["employees"],
            agents=data["agents"] or 0,
            calls_per_day=data["calls_per_day"] or 0,
            missed_call_cost=advisor.MissedCallCost(
                data["missed_call_cost"] or advisor.MissedCallCost.MEDIUM
            ),
            needs=frozenset(data["needs"]),
        )
