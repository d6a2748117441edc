"""The deal's TCO/ROI and deployment advice: the form's inputs turned into the engine's
(``ringup.engine.tco``, ``ringup.engine.deployment``) and the results computed on every
view from what is stored on the deal, so a figure always matches its inputs."""

from decimal import Decimal

from django.utils.translation import gettext_lazy as _

from ringup.engine import deployment, tco

from ..models import Deal
from .bills import offer_price
from .deals import DealRefused

# On-premise inputs: (field, label). The engine's ``OnPremise`` fields.
ON_PREMISE_FIELDS = (
    ("purchase", _("IP-PBX purchase")),
    ("rent_monthly", _("IP-PBX rent a month")),
    ("licences", _("Licences")),
    ("phones", _("Desk phones")),
    ("installation", _("Installation and set-up")),
    ("line_rental_monthly", _("SIP trunk / PRI rental a month")),
    ("maintenance_percent", _("Maintenance a year, percent of purchase")),
    ("it_hours_monthly", _("IT staff hours a month")),
    ("it_hourly_rate", _("IT staff hourly rate")),
    ("power_space_monthly", _("Power and space a month")),
    ("calls_monthly", _("Call charges a month")),
)

# Typical Russian SMB figures (RUB) for a first TCO the manager then adjusts with the
# prospect: a server-based IP-PBX with per-user licences, one desk phone per employee,
# one SIP-trunk channel rental per line.
SERVER_PRICE = Decimal(120_000)
SERVER_PER_EMPLOYEE = Decimal(1_500)
LICENCE_PER_EMPLOYEE = Decimal(2_500)
PHONE_PRICE = Decimal(6_000)
INSTALLATION_BASE = Decimal(40_000)
INSTALLATION_PER_EMPLOYEE = Decimal(1_000)
CHANNEL_RENTAL = Decimal(1_200)
IT_HOURS_BASE = Decimal(4)
IT_HOURS_PER_10_EMPLOYEES = Decimal(1)
IT_HOURLY_RATE = Decimal(1_500)
POWER_SPACE = Decimal(2_500)
MAINTENANCE_PERCENT = Decimal(15)


def on_premise_defaults(deal: Deal, *, calls_monthly: Decimal = Decimal(0)) -> dict:
    """First on-premise figures for the deal's employees and lines (see the constants)."""
    employees = Decimal(deal.employees or deal.customer.employees or 1)
    lines = Decimal(deal.lines or 1)
    return {
        "purchase": SERVER_PRICE + SERVER_PER_EMPLOYEE * employees,
        "rent_monthly": Decimal(0),
        "licences": LICENCE_PER_EMPLOYEE * employees,
        "phones": PHONE_PRICE * employees,
        "installation": INSTALLATION_BASE + INSTALLATION_PER_EMPLOYEE * employees,
        "line_rental_monthly": CHANNEL_RENTAL * lines,
        "maintenance_percent": MAINTENANCE_PERCENT,
        "it_hours_monthly": IT_HOURS_BASE
        + (IT_HOURS_PER_10_EMPLOYEES * employees / 10).quantize(Decimal(1)),
        "it_hourly_rate": IT_HOURLY_RATE,
        "power_space_monthly": POWER_SPACE,
        "calls_monthly": calls_monthly,
    }


def bill_averages(deal: Deal) -> tuple[Decimal, Decimal]:
    """(current, ours) average monthly call charges from the deal's latest bill analysis;
    zeros without one. "Ours" is the re-rated usage only (the plan's fee is the hosted
    side's monthly fee)."""
    bill = deal.bills.filter(analysed_at__isnull=False).order_by("-uploaded_at", "-id").first()
    if bill is None:
        return Decimal(0), Decimal(0)
    return _average(bill.profile.get("current"), "usage"), _average(
        bill.profile.get("ours"), "usage"
    )


def _average(months: dict | None, part: str) -> Decimal:
    if not months:
        return Decimal(0)
    values = [Decimal(str(row[part])) for row in months.values()]
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal("0.01"))


def tco_form_initial(deal: Deal) -> dict:
    """The TCO form as last saved, or the defaults for this deal."""
    current, _ = bill_averages(deal)
    saved = deal.tco_inputs or {}
    initial = {"years": 3, "discount_rate": Decimal(10), "hosted_phones": None}
    initial.update(on_premise_defaults(deal, calls_monthly=current))
    initial.update({k: v for k, v in saved.items() if v is not None})
    return initial


def save_tco_inputs(deal: Deal, data: dict) -> Deal:
    """Keep the TCO form's inputs on the deal (checked by computing the TCO once)."""
    inputs = {k: str(v) if v is not None else None for k, v in data.items()}
    deal.tco_inputs = inputs
    deal_tco(deal)
    deal.save(update_fields=["tco_inputs"])
    return deal


def deal_tco(deal: Deal):
    """The TCO of the deal's stored inputs against its proposed offer, or ``None`` before
    an offer exists. Hosted: the quote engine's monthly fee and one-time fees for the
    offer, the same phones as on premise unless entered, and the re-rated usage."""
    if deal.plan_id is None:
        return None
    inputs = tco_form_initial(deal)
    offer = offer_price(deal)
    _, ours = bill_averages(deal)
    phones = inputs.get("hosted_phones")
    try:
        return tco.tco(
            tco.OnPremise(**{name: Decimal(str(inputs[name])) for name, _ in ON_PREMISE_FIELDS}),
            tco.Hosted(
                monthly_fee=offer.price.monthly_fee,
                one_time=offer.one_time,
                phones=Decimal(str(phones))
                if phones not in (None, "")
                else Decimal(str(inputs["phones"])),
                calls_monthly=ours,
            ),
            years=int(inputs["years"]),
            discount_rate=Decimal(str(inputs["discount_rate"])),
            currency=offer.price.currency,
        )
    except tco.TcoError as error:
        raise DealRefused(error.errors) from error


# The values of the engine's ``deployment.Level``, ``Budget`` and ``Integrations``.
LEVELS = [("low", _("Low")), ("medium", _("Medium")), ("high", _("High"))]
DEPLOYMENT_CHOICES = (
    ("control", _("Need for control over the system and data"), LEVELS),
    (
        "budget",
        _("Budget"),
        [
            ("capex", _("Capital (buy once)")),
            ("either", _("Either")),
            ("opex", _("Operating (pay monthly)")),
        ],
    ),
    ("growth", _("Expected growth of extensions"), LEVELS),
    ("remote_staff", _("Remote and travelling staff"), LEVELS),
    ("sites", _("Sites"), None),
    ("it_capacity", _("In-house IT capacity"), LEVELS),
    (
        "integrations",
        _("Integrations"),
        [
            ("none", _("None")),
            ("cloud_apps", _("Cloud apps (CRM, helpdesk)")),
            ("on_premise_systems", _("Systems on own servers")),
        ],
    ),
    ("recurring_revenue", _("Recurring revenue potential"), LEVELS),
)


def deployment_initial(deal: Deal) -> dict:
    return {"sites": deal.sites, **(deal.deployment_answers or {})}


def save_deployment(deal: Deal, data: dict) -> Deal:
    deal.deployment_answers = {k: v for k, v in data.items()}
    deal_deployment(deal)
    deal.save(update_fields=["deployment_answers"])
    return deal


def deal_deployment(deal: Deal):
    """The engine's advice for the stored answers, or ``None`` before any."""
    answers = deal.deployment_answers
    if not answers:
        return None
    return deployment.advise_deployment(
        deployment.DeploymentAnswers(
            control=deployment.Level(answers["control"]),
            budget=deployment.Budget(answers["budget"]),
            growth=deployment.Level(answers["growth"]),
            remote_staff=deployment.Level(answers["remote_staff"]),
            sites=int(answers["sites"]),
            it_capacity=deployment.Level(answers["it_capacity"]),
            integrations=deployment.Integrations(answers["integrations"]),
            recurring_revenue=deployment.Level(answers["recurring_revenue"]),
        )
    )
