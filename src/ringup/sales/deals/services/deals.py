"""The pipeline: a deal is created with its prospect, moves through the stages, and is won
(the customer's subscription starts on the proposed configuration) or lost (with a reason;
engagement asks again later). Every change emits its event in the same transaction."""

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q

from ringup.billing.models import Subscription
from ringup.billing.services.subscriptions import StartRequest, convert_trial, start_subscription
from ringup.catalog.models import Plan, Segment
from ringup.catalog.services import QuoteRequest, price
from ringup.customers.models import Contact, Customer
from ringup.customers.services import customer_payload
from ringup.engine.pricing import SelectionError
from ringup.events.services import emit

from ..models import Deal, LostReason, Stage, StageChange


class DealRefused(SelectionError):
    """A deal change that cannot be made; ``errors`` names the field (API: 422)."""


# Where a deal may go from each stage. Won and lost are reached only through
# :func:`win_deal` and :func:`lose_deal`; a lost deal can be reopened as a lead.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    Stage.LEAD: (Stage.QUALIFIED, Stage.LOST),
    Stage.QUALIFIED: (Stage.PROPOSAL, Stage.LEAD, Stage.LOST),
    Stage.PROPOSAL: (Stage.TRIAL, Stage.WON, Stage.QUALIFIED, Stage.LOST),
    Stage.TRIAL: (Stage.WON, Stage.PROPOSAL, Stage.LOST),
    Stage.WON: (),
    Stage.LOST: (Stage.LEAD,),
}


@dataclass(frozen=True)
class NewContact:
    name: str
    role: str = ""
    email: str = ""
    phone: str = ""


@dataclass(frozen=True)
class NewDeal:
    """A deal with a new prospect company, as the sales manager enters it."""

    company: str
    title: str = ""
    tier: str = Segment.SMB
    sites: int = 1
    lines: int = 1
    employees: int = 1
    current_provider: str = ""
    email: str = ""
    phone: str = ""
    country: str = "RU"
    language: str = "ru"
    owner_id: int | None = None
    next_step: str = ""
    next_step_on: object = None
    expected_mrr: Decimal | None = None
    contacts: tuple[NewContact, ...] = field(default_factory=tuple)


def deal_payload(deal: Deal) -> dict:
    """The deal as its events carry it."""
    return {
        "id": deal.pk,
        "title": deal.title,
        "stage": deal.stage,
        "tier": deal.tier,
        "sites": deal.sites,
        "lines": deal.lines,
        "owner_id": deal.owner_id,
        "expected_mrr": deal.expected_mrr,
        "plan": deal.plan.code if deal.plan_id else None,
        "lost_reason": deal.lost_reason or None,
    }


def _emit(kind: str, deal: Deal, *, at: datetime, key: str, **extra) -> None:
    emit(
        kind,
        at=at,
        payload={"deal": deal_payload(deal), "customer": customer_payload(deal.customer), **extra},
        customer_id=deal.customer_id,
        subscription_id=deal.subscription_id,
        key=key,
    )


def _owner(user_id: int | None):
    if user_id is None:
        return None
    user = get_user_model().objects.filter(pk=user_id, is_staff=True, is_active=True).first()
    if user is None:
        raise DealRefused({"owner": "no active staff user with this id"})
    return user


def _check_new(new: NewDeal) -> None:
    errors = {}
    if not new.company.strip():
        errors["company"] = "must not be empty"
    if new.tier not in Segment.values:
        errors["tier"] = f"one of {', '.join(Segment.values)}"
    for name in ("sites", "lines", "employees"):
        if getattr(new, name) < 1:
            errors[name] = "must be at least 1"
    if new.expected_mrr is not None and new.expected_mrr < 0:
        errors["expected_mrr"] = "must not be negative"
    if errors:
        raise DealRefused(errors)


def create_deal(new: NewDeal, *, at: datetime, by=None) -> Deal:
    """A new prospect company (a customer from the sales team, no subscription yet), its
    contacts and its deal at the lead stage; emits ``deal.created``."""
    _check_new(new)
    owner = _owner(new.owner_id) if new.owner_id is not None else by
    with transaction.atomic():
        customer = Customer.objects.create(
            name=new.company.strip(),
            is_company=True,
            email=new.email,
            phone=new.phone,
            country=new.country,
            language=new.language,
            tier=new.tier,
            employees=new.employees,
            source=Customer.Source.SALES,
            registered_at=at,
        )
        Contact.objects.bulk_create(
            Contact(customer=customer, is_primary=index == 0, **vars(contact))
            for index, contact in enumerate(new.contacts)
        )
        deal = Deal.objects.create(
            customer=customer,
            title=new.title.strip() or new.company.strip(),
            tier=new.tier,
            sites=new.sites,
            lines=new.lines,
            employees=new.employees,
            current_provider=new.current_provider,
            owner=owner,
            next_step=new.next_step,
            next_step_on=new.next_step_on,
            expected_mrr=new.expected_mrr,
            created_at=at,
            stage_changed_at=at,
        )
        StageChange.objects.create(deal=deal, to_stage=Stage.LEAD, at=at, by=by)
        _emit("deal.created", deal, at=at, key=f"deal.created:{deal.pk}")
    return deal


def _locked(deal: Deal) -> Deal:
    # Only the deal row is locked: the plan is a nullable (outer) join, which PostgreSQL
    # cannot lock.
    return (
        Deal.objects.select_for_update(of=("self",))
        .select_related("customer", "plan")
        .get(pk=deal.pk)
    )


def _enter(deal: Deal, stage: str, *, at: datetime, by, note: str = "") -> StageChange:
    """Record ``deal`` entering ``stage`` (validated) and emit ``deal.stage_changed``."""
    if stage not in Stage.values:
        raise DealRefused({"stage": f"one of {', '.join(Stage.values)}"})
    if stage not in TRANSITIONS[deal.stage]:
        allowed = ", ".join(TRANSITIONS[deal.stage]) or "none: the deal is closed"
        raise DealRefused(
            {"stage": f"a {deal.stage} deal cannot move to {stage} (allowed: {allowed})"}
        )
    if at < deal.stage_changed_at:
        raise DealRefused({"at": "is before the deal's last stage change"})
    change = StageChange.objects.create(
        deal=deal, from_stage=deal.stage, to_stage=stage, at=at, by=by, note=note[:300]
    )
    deal.stage, deal.stage_changed_at = stage, at
    deal.closed_at = at if stage in (Stage.WON, Stage.LOST) else None
    if stage != Stage.LOST:
        deal.lost_reason, deal.lost_note = "", ""
    return change


def _stage_changed(deal: Deal, change: StageChange) -> None:
    _emit(
        "deal.stage_changed",
        deal,
        at=change.at,
        key=f"deal.stage_changed:{change.pk}",
        stage={"from": change.from_stage, "to": change.to_stage},
    )


@transaction.atomic
def move_deal(deal: Deal, stage: str, *, at: datetime, by=None, note: str = "") -> Deal:
    """Move an open deal to another open stage (or reopen a lost one as a lead); won and
    lost go through :func:`win_deal` and :func:`lose_deal`."""
    if stage in (Stage.WON, Stage.LOST):
        raise DealRefused({"stage": f"a deal is {stage} through its own action, with its details"})
    deal = _locked(deal)
    change = _enter(deal, stage, at=at, by=by, note=note)
    deal.save(update_fields=["stage", "stage_changed_at", "closed_at", "lost_reason", "lost_note"])
    _stage_changed(deal, change)
    return deal


def set_offer(
    deal: Deal,
    *,
    plan: str,
    employees: int | None,
    numbers: int | None = None,
    options: tuple[str, ...] = (),
) -> Deal:
    """What is proposed: the plan and its configuration, checked by pricing it."""
    price(QuoteRequest(plan=plan, employees=employees, numbers=numbers, options=options))
    deal.plan = Plan.objects.get(code=plan)
    deal.employees, deal.numbers, deal.options = employees, numbers, sorted(set(options))
    deal.save(update_fields=["plan", "employees", "numbers", "options"])
    return deal


def offer_request(deal: Deal) -> QuoteRequest:
    """The proposed configuration as the quote engine prices it."""
    if deal.plan_id is None:
        raise DealRefused({"plan": "no plan is proposed yet"})
    return QuoteRequest(
        plan=deal.plan.code,
        employees=deal.employees,
        numbers=deal.numbers,
        options=tuple(deal.options),
        customer_name=deal.customer.name,
    )


@transaction.atomic
def win_deal(deal: Deal, *, at: datetime, by=None, trial: bool = False) -> Deal:
    """Win the deal: the customer's subscription starts at ``at`` on the proposed plan,
    employees, numbers and options (paid, unless ``trial``), and ``deal.won`` is emitted.
    Winning a won deal again changes nothing and starts no second subscription."""
    deal = _locked(deal)
    if deal.stage == Stage.WON:
        return deal
    offer = offer_request(deal)
    change = _enter(deal, Stage.WON, at=at, by=by)
    running = None if trial else _running_trial(deal.customer)
    if running is not None:
        # The prospect took the proposal's trial: winning converts it (on the proposed
        # plan) rather than starting a second, paid subscription beside it.
        deal.subscription = convert_trial(running, at=at, plan=offer.plan)
    else:
        deal.subscription = start_subscription(
            deal.customer,
            StartRequest(
                plan=offer.plan,
                employees=offer.employees,
                numbers=offer.numbers,
                options=offer.options,
                trial=trial,
            ),
            at=at,
        )
    deal.save(
        update_fields=[
            "stage",
            "stage_changed_at",
            "closed_at",
            "lost_reason",
            "lost_note",
            "subscription",
        ]
    )
    _stage_changed(deal, change)
    _emit("deal.won", deal, at=at, key=f"deal.won:{deal.pk}")
    return deal


def _running_trial(customer: Customer) -> Subscription | None:
    """The customer's trial still waiting for a decision (running, or suspended at its end
    without one), if any."""
    waiting = Q(status=Subscription.Status.TRIALING) | Q(
        status=Subscription.Status.SUSPENDED, trial_converts=False
    )
    return (
        Subscription.objects.filter(waiting, customer=customer, trial_ends_at__isnull=False)
        .filter(ended_at__isnull=True)
        .order_by("-started_at")
        .first()
    )


@transaction.atomic
def lose_deal(deal: Deal, *, reason: str, at: datetime, by=None, note: str = "") -> Deal:
    """Lose the deal for ``reason`` and emit ``deal.lost`` (engagement makes the tasks to
    ask again in 3 and 6 months)."""
    if reason not in LostReason.values:
        raise DealRefused({"reason": f"one of {', '.join(LostReason.values)}"})
    deal = _locked(deal)
    change = _enter(deal, Stage.LOST, at=at, by=by, note=note)
    deal.lost_reason, deal.lost_note = reason, note
    deal.save(update_fields=["stage", "stage_changed_at", "closed_at", "lost_reason", "lost_note"])
    _stage_changed(deal, change)
    _emit(
        "deal.lost",
        deal,
        at=at,
        key=f"deal.lost:{change.pk}",
        lost={"reason": reason, "note": note, "change_id": change.pk},
    )
    return deal
