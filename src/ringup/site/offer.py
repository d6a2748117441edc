"""The offer a visitor carries into sign-up or a purchase: a selection on one plan, plus
the promo and referral codes and where it began (calculator, quote, advisor, …).

Links write it as query parameters (``?plan=office-pbx&period=annual&options=a,b&
employees=12&promo=SPRING&ref=FRIEND42``); the sign-up form carries it as hidden fields
of the same names. Whether it can be sold is decided by ``catalog.services.price``, the
same function the calculator prices with.
"""

from dataclasses import dataclass, field, replace
from datetime import datetime

from django import forms
from django.utils.translation import gettext_lazy as _

from ringup.catalog import selectors, services
from ringup.catalog.models import Plan, Quote
from ringup.customers.models import Customer
from ringup.engine import pricing
from ringup.marketing.promotions.selectors import Purchase
from ringup.marketing.promotions.services import PromotionRefused, check_code

from .forms import CodeListField, code_validator, selection_query

Source = Customer.Source

#: The session key under which links' referral and promo codes wait for the sign-up.
REFERRAL_SESSION_KEY = "ringup_codes"

#: Where a sign-up began when no code says otherwise (``origin`` of the link).
ORIGINS = {"calculator": Source.CALCULATOR, "advisor": Source.ADVISOR, "quote": Source.QUOTE}


@dataclass(frozen=True)
class Offer:
    plan: str
    period: str = pricing.Period.MONTHLY.value
    employees: int | None = None
    extra_numbers: int = 0
    options: tuple[str, ...] = ()
    traffic_package: str = ""
    promo_code: str = ""
    referral_code: str = ""
    quote: Quote | None = field(default=None, compare=False)
    origin: str = ""

    @property
    def source(self) -> str:
        """The lead's source. A referral or promo code names the campaign that brought
        the visitor, so it wins over the page the visitor pressed "Try free" on."""
        if self.referral_code:
            return Source.REFERRAL
        if self.promo_code:
            return Source.PROMO
        if self.quote is not None:
            return Source.QUOTE
        return ORIGINS.get(self.origin, Source.WEBSITE)

    def quote_request(self, plan: Plan) -> services.QuoteRequest:
        return services.QuoteRequest(
            plan=self.plan,
            employees=self.employees,
            numbers=plan.included_numbers + self.extra_numbers if self.extra_numbers else None,
            options=self.options,
            traffic_package=self.traffic_package or None,
            period=self.period,
            promo_code=self.promo_code,
        )

    def query(self) -> str:
        """The offer as a query string, as links write it."""
        selection = selection_query(
            plan=self.plan,
            employees=self.employees,
            extra_numbers=self.extra_numbers,
            options=self.options,
            traffic_package=self.traffic_package or None,
            period=self.period,
        )
        extra = "&".join(
            f"{name}={value}"
            for name, value in (
                ("promo", self.promo_code),
                ("ref", self.referral_code),
                ("quote", self.quote.token if self.quote else ""),
                ("origin", self.origin),
            )
            if value
        )
        return "&".join(part for part in (selection, extra) if part)


@dataclass(frozen=True)
class PricedOffer:
    offer: Offer
    plan: Plan
    quote: pricing.Quote


class OfferError(Exception):
    """The offer cannot be sold; ``errors`` maps a field to its message."""

    def __init__(self, errors: dict[str, str]):
        super().__init__(errors)
        self.errors = errors


def price(offer: Offer) -> PricedOffer:
    """Price ``offer`` as the calculator would; :class:`OfferError` names bad fields."""
    plan = selectors.get_plan(offer.plan)
    if plan is None:
        raise OfferError({"plan": f"unknown plan {offer.plan!r}"})
    try:
        plan, quote = services.price(offer.quote_request(plan))
    except pricing.SelectionError as error:
        raise OfferError(dict(error.errors)) from error
    return PricedOffer(offer, plan, quote)


def promo_note(priced: PricedOffer, *, at: datetime) -> str:
    """What the offer's promo code gives ("Spring: 328.00 off the first period") or why
    it does not apply; empty without a code."""
    offer = priced.offer
    if not offer.promo_code:
        return ""
    purchase = Purchase(plan=offer.plan, period=offer.period, options=tuple(offer.options))
    try:
        checked = check_code(offer.promo_code, purchase, at=at, quote=priced.quote)
    except PromotionRefused as error:
        return _("Not applied: %(reason)s") % {"reason": "; ".join(error.errors.values())}
    return _("%(promotions)s: %(amount)s %(currency)s off the first period") % {
        "promotions": ", ".join(p.name for p in checked.applied),
        "amount": checked.first_period_discount,
        "currency": priced.quote.currency,
    }


def from_quote(quote: Quote, offer: Offer) -> Offer:
    """The selection of a saved quote, keeping the codes the visitor brought."""
    selection = quote.selection
    numbers = selection.get("numbers")
    return replace(
        offer,
        plan=quote.plan.code,
        period=quote.period,
        employees=quote.employees,
        extra_numbers=max(0, numbers - quote.plan.included_numbers) if numbers else 0,
        options=tuple(selection.get("options") or ()),
        traffic_package=selection.get("traffic_package") or "",
        promo_code=offer.promo_code or quote.promo_code,
        quote=quote,
    )


class OfferForm(forms.Form):
    """The offer's fields, from a link's query string or the sign-up form's hidden inputs."""

    plan = forms.SlugField(required=False, max_length=40, widget=forms.HiddenInput)
    period = forms.ChoiceField(
        required=False,
        choices=[(p.value, p.value) for p in pricing.Period],
        widget=forms.HiddenInput,
    )
    employees = forms.IntegerField(
        required=False, min_value=1, max_value=pricing.MAX_EMPLOYEES, widget=forms.HiddenInput
    )
    extra_numbers = forms.IntegerField(
        required=False, min_value=0, max_value=pricing.MAX_NUMBERS, widget=forms.HiddenInput
    )
    options = CodeListField(required=False)
    traffic_package = forms.CharField(
        required=False, max_length=40, validators=[code_validator], widget=forms.HiddenInput
    )
    promo = forms.CharField(
        required=False, max_length=40, validators=[code_validator], widget=forms.HiddenInput
    )
    ref = forms.CharField(
        required=False, max_length=40, validators=[code_validator], widget=forms.HiddenInput
    )
    quote = forms.CharField(
        required=False, max_length=32, validators=[code_validator], widget=forms.HiddenInput
    )
    origin = forms.ChoiceField(
        required=False, choices=[(o, o) for o in ORIGINS], widget=forms.HiddenInput
    )

    def clean_quote(self) -> Quote | None:
        token = self.cleaned_data["quote"]
        if not token:
            return None
        quote = Quote.objects.select_related("plan").filter(token=token).first()
        if quote is None:
            raise forms.ValidationError(_("No such quote."))
        return quote

    def offer(self, default_plan: str) -> Offer:
        """The offer of a valid form; ``default_plan`` when the link names none."""
        data = self.cleaned_data
        offer = Offer(
            plan=data["plan"] or default_plan,
            period=data["period"] or pricing.Period.MONTHLY.value,
            employees=data["employees"],
            extra_numbers=data["extra_numbers"] or 0,
            options=data["options"],
            traffic_package=data["traffic_package"],
            promo_code=data["promo"].upper(),
            referral_code=data["ref"],
            origin=data["origin"],
        )
        return from_quote(data["quote"], offer) if data["quote"] else offer


def parse(data, *, default_plan: str, codes: dict | None = None) -> PricedOffer:
    """The priced offer of ``data`` (a query string or the form's hidden fields);
    ``codes`` are promo/referral codes kept from earlier pages (the session), used when
    ``data`` has none. Raises :class:`OfferError`."""
    form = OfferForm(data)
    if not form.is_valid():
        raise OfferError({name: errors[0] for name, errors in form.errors.items()})
    offer = form.offer(default_plan)
    codes = codes or {}
    offer = replace(
        offer,
        promo_code=offer.promo_code or codes.get("promo", ""),
        referral_code=offer.referral_code or codes.get("ref", ""),
    )
    return price(offer)
