"""Rewards as ``AccountCredit`` rows on the referrer, so the next invoice shows them; each
is claimed by a unique ``Reward.source_key`` in the transaction that writes its credit, so
an event delivered twice rewards once. A refund (credit note) claws the reward back."""

import calendar
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.db import IntegrityError, transaction
from django.db.models import F

from ringup.billing.models import AccountCredit, CreditNote, Invoice, Payment
from ringup.customers.models import Customer
from ringup.engine.money import percent_of, quantize
from ringup.events.services import emit

from ..models import ZERO, Clawback, Referral, ReferralProgram, Reward
from .attribution import referral_payload, reject


def add_months(at: datetime, months: int) -> datetime:
    """``at`` plus ``months`` calendar months (31 January + 1 → 28/29 February)."""
    month = at.month - 1 + months
    year, month = at.year + month // 12, month % 12 + 1
    return at.replace(year=year, month=month, day=min(at.day, calendar.monthrange(year, month)[1]))


def reward_payment(customer_id: int, invoice_id: int, *, at: datetime) -> list[Reward]:
    """A referred customer's invoice was paid (``invoice.paid``): the first payment
    converts the referral (``referral.converted``, the fixed and invitation bonuses);
    with a percentage program, each payment within ``months`` of the first earns
    ``percentage`` % of the invoice's total. Returns the rewards granted."""
    with transaction.atomic():
        referral = (
            Referral.objects.select_for_update()
            .select_related("referrer")
            .filter(
                referred_id=customer_id,
                status__in=[Referral.Status.JOINED, Referral.Status.CONVERTED],
            )
            .first()
        )
        if referral is None:
            return []
        invoice = Invoice.objects.filter(pk=invoice_id, customer_id=customer_id).first()
        if invoice is None:
            return []
        if shares_payer(referral.referrer_id, customer_id):
            reject(referral, Referral.Reason.SAME_PAYER)
            return []
        program = ReferralProgram.current()
        rewards = []
        converts = referral.status == Referral.Status.JOINED
        if converts:
            rewards += _convert(referral, invoice, program, at=at)
        if (
            program.is_active
            and program.reward_kind == ReferralProgram.RewardKind.PERCENTAGE
            and at < add_months(referral.converted_at, program.months)
        ):
            rewards.append(
                grant(
                    referral.referrer,
                    kind=Reward.Kind.PERCENTAGE,
                    source_key=f"percentage:invoice:{invoice.pk}",
                    amount=percent_of(invoice.total, program.percentage, invoice.currency),
                    description=(
                        f"Referral reward: {program.percentage.normalize()}% of "
                        f"invoice {invoice.number}"
                    ),
                    at=at,
                    referral=referral,
                    invoice=invoice,
                )
            )
        rewards = [reward for reward in rewards if reward is not None]
        if converts:
            _announce_conversion(referral, invoice, rewards, at=at)
        return rewards


def shares_payer(referrer_id: int, referred_id: int) -> bool:
    """Whether the referred customer paid with an identity (a card fingerprint, an
    account) the referrer has paid with too: one payer behind both accounts."""
    theirs = (
        Payment.objects.filter(customer_id=referred_id)
        .exclude(payer_reference="")
        .values("payer_reference")
    )
    return Payment.objects.filter(customer_id=referrer_id, payer_reference__in=theirs).exists()


def _announce_conversion(
    referral: Referral, invoice: Invoice, rewards: list[Reward], *, at: datetime
) -> None:
    emit(
        "referral.converted",
        at=at,
        payload=referral_payload(
            referral,
            invoice={"id": invoice.pk, "number": invoice.number, "total": invoice.total},
            reward=sum((reward.amount for reward in rewards), ZERO),
            currency=invoice.currency,
        ),
        customer_id=referral.referrer_id,
        key=f"referral.converted:{referral.pk}",
    )


def _convert(
    referral: Referral, invoice: Invoice, program: ReferralProgram, *, at: datetime
) -> list[Reward | None]:
    referral.status, referral.converted_at = Referral.Status.CONVERTED, at
    referral.save(update_fields=["status", "converted_at"])
    rewards = []
    if program.is_active and program.reward_kind == ReferralProgram.RewardKind.FIXED:
        rewards.append(
            grant(
                referral.referrer,
                kind=Reward.Kind.FIRST_PAYMENT,
                source_key=f"first_payment:referral:{referral.pk}",
                amount=program.fixed_bonus,
                description=f"Referral bonus: {referral.email} bought",
                at=at,
                referral=referral,
                invoice=invoice,
            )
        )
    if program.is_active and referral.invitation_id is not None:
        rewards.append(
            grant(
                referral.referrer,
                kind=Reward.Kind.INVITATION_BUY,
                source_key=f"invitation_buy:referral:{referral.pk}",
                amount=program.invitation_buy_bonus,
                description=f"Referral bonus: {referral.invitation.name} bought",
                at=at,
                referral=referral,
                invoice=invoice,
            )
        )
    return rewards


def grant(
    referrer: Customer,
    *,
    kind: str,
    source_key: str,
    amount: Decimal,
    description: str,
    at: datetime,
    referral: Referral | None = None,
    invoice: Invoice | None = None,
) -> Reward | None:
    """Reward ``referrer`` with ``amount`` as a credit on their account, once per
    ``source_key`` (``None`` when it was granted before, or the amount is zero). What a
    clawback left owing is set off first; only the rest becomes credit."""
    program_currency = invoice.currency if invoice else ReferralProgram.current().currency
    amount = quantize(amount, program_currency)
    if amount <= 0:
        return None
    with transaction.atomic():
        try:
            with transaction.atomic():
                reward = Reward.objects.create(
                    referrer=referrer,
                    referral=referral,
                    kind=kind,
                    source_key=source_key,
                    invoice_id=invoice.pk if invoice else None,
                    amount=amount,
                    at=at,
                )
        except IntegrityError:
            return None
        left = _set_off_debt(referrer, amount)
        if left > 0:
            reward.credit = AccountCredit.objects.create(
                customer=referrer,
                description=description[:200],
                amount=left,
                currency=program_currency,
                granted_at=at,
            )
            reward.save(update_fields=["credit"])
    return reward


def _set_off_debt(referrer: Customer, amount: Decimal) -> Decimal:
    """Settle clawbacks the referrer still owes from ``amount``; returns what is left."""
    owed = (
        Clawback.objects.select_for_update()
        .filter(reward__referrer=referrer, settled__lt=F("carried"))
        .order_by("at", "id")
    )
    for clawback in owed:
        if amount <= 0:
            break
        part = min(amount, clawback.carried - clawback.settled)
        clawback.settled += part
        clawback.save(update_fields=["settled"])
        amount -= part
    return amount


# Clawback -----------------------------------------------------------------------------


def claw_back_refunds(
    *, at: datetime, customer_id: int | None = None, credit_note_id: int | None = None
) -> list[Clawback]:
    """Take back the rewards earned by invoices that were credited since (a refund): the
    reward's share of what is credited (:func:`clawback_due`). It comes off the reward's
    credit not yet used; what an invoice already used is carried and set off against the
    referrer's next rewards. Once per reward and credit note; returns the clawbacks
    written. ``customer_id``: only credit notes of that (referred) customer;
    ``credit_note_id``: only that one (the ``credit_note.issued`` event)."""
    rewarded = Reward.objects.filter(invoice_id__isnull=False).values("invoice_id")
    notes = CreditNote.objects.filter(invoice_id__in=rewarded)
    if customer_id is not None:
        notes = notes.filter(customer_id=customer_id)
    if credit_note_id is not None:
        notes = notes.filter(pk=credit_note_id)
    notes = notes.select_related("invoice").order_by("id")
    written = []
    for note in notes:
        for reward in Reward.objects.filter(invoice_id=note.invoice_id).exclude(
            clawbacks__credit_note_id=note.pk
        ):
            clawback = _claw_back(reward, note, at=at)
            if clawback is not None:
                written.append(clawback)
    return written


def clawback_due(reward: Decimal, credited: Decimal, total: Decimal, taken: Decimal) -> Decimal:
    """What to take back now of a ``reward`` earned by an invoice of ``total`` of which
    ``credited`` is credited so far, ``taken`` having been taken back already: the
    reward's share of everything credited, rounded once, less what was taken. Cumulative,
    so partial credit notes add up to the whole reward when the whole invoice is credited."""
    if total <= 0:
        return ZERO
    share = (reward * min(credited, total) / total).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return max(ZERO, share - taken)


def _claw_back(reward: Reward, note: CreditNote, *, at: datetime) -> Clawback | None:
    invoice = note.invoice
    with transaction.atomic():
        reward = Reward.objects.select_for_update().get(pk=reward.pk)
        taken = sum((c.amount for c in reward.clawbacks.all()), ZERO)
        credited = sum(
            (
                other.total
                for other in CreditNote.objects.filter(invoice_id=invoice.pk, pk__lte=note.pk)
            ),
            ZERO,
        )
        amount = clawback_due(reward.amount, credited, invoice.total, taken)
        from_credit = ZERO
        if reward.credit_id is not None and amount > 0:
            credit = AccountCredit.objects.select_for_update().get(pk=reward.credit_id)
            from_credit = min(amount, credit.amount - credit.used)
            if from_credit > 0:
                credit.amount -= from_credit
                credit.save(update_fields=["amount"])
        try:
            with transaction.atomic():
                return Clawback.objects.create(
                    reward=reward,
                    credit_note_id=note.pk,
                    amount=amount,
                    from_credit=from_credit,
                    carried=amount - from_credit,
                    at=at,
                )
        except IntegrityError:
            transaction.set_rollback(True)
            return None
