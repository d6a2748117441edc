"""Rewards: a share of each payment of the referred customer (or a fixed bonus on the
first), the bonus for naming acquaintances and the extra one when they buy — each once,
as a credit on the referrer's next invoice, and taken back when the invoice is refunded."""

from datetime import UTC, datetime
from decimal import Decimal as D
from io import StringIO

import pytest
from django.core.management import call_command

from ringup.billing.models import AccountCredit, Invoice
from ringup.billing.services.invoicing import issue_credit_note
from ringup.billing.services.payments import record_payment
from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.events.models import Event
from ringup.marketing.referrals import consumers
from ringup.marketing.referrals.models import Clawback, Referral, ReferralProgram, Reward
from ringup.marketing.referrals.selectors import referral_summary
from ringup.marketing.referrals.services import claw_back_refunds, code_for

from .conftest import REGISTERED, deliver
from .helpers import mails_to, sign_up

pytestmark = pytest.mark.django_db

# Moscow is UTC+3: local midnight of 1 March 2025 is 28 February 21:00 UTC.
MARCH_1 = datetime(2025, 2, 28, 21, tzinfo=UTC)
APRIL_5 = datetime(2025, 4, 5, 9, tzinfo=UTC)
MAY_6 = datetime(2025, 5, 6, 9, tzinfo=UTC)


def bill(until: str) -> None:
    call_command("bill", "--until", until, stdout=StringIO())


def subscribe(customer):
    return start_subscription(
        customer, StartRequest(plan="office-pbx", employees=10, trial=False), at=MARCH_1
    )


def pay(invoice: Invoice, at: datetime):
    return record_payment(
        invoice.customer,
        amount=invoice.total,
        currency=invoice.currency,
        reference=f"PP-{invoice.pk}",
        at=at,
    )


@pytest.fixture
def boris(client, referrer, program):
    """Boris signed up with Irina's code and verified his address; both are on Office
    PBX with 10 employees since 1 March, and March is billed."""
    boris = sign_up(
        client, "boris@example.com", "+79167654321", code_for(referrer, at=REGISTERED).code
    )
    deliver()
    subscribe(boris)
    subscribe(referrer)
    bill("2025-03-31")
    return boris


def march_invoice(customer) -> Invoice:
    return Invoice.objects.get(customer=customer, period_start=MARCH_1)


def test_each_payment_earns_the_percentage_once_even_when_delivered_twice(boris, referrer):
    """Boris's March invoice: Office PBX 890.00 + 10 employees × 75.00 = 1,640.00 (VAT
    included). 7.5% of 1,640.00 = 123.00 goes to Irina as a credit."""
    invoice = march_invoice(boris)
    assert invoice.total == D("1640.00")
    pay(invoice, APRIL_5)
    deliver()
    (reward,) = Reward.objects.all()
    assert (reward.kind, reward.amount, reward.invoice_id) == (
        "percentage",
        D("123.00"),
        invoice.pk,
    )
    assert (reward.credit.customer, reward.credit.amount) == (referrer, D("123.00"))
    # The worker dies after the handler's commit and the event is handed over again.
    consumers.on_event(Event.objects.get(kind="invoice.paid"))
    assert Reward.objects.count() == 1
    assert AccountCredit.objects.filter(customer=referrer).count() == 1
    referral = Referral.objects.get()
    assert (referral.status, referral.converted_at) == (Referral.Status.CONVERTED, APRIL_5)
    (converted,) = Event.objects.filter(kind="referral.converted")
    assert converted.payload["reward"] == "123.00" and converted.customer_id == referrer.pk
    bought = [m for m in mails_to(referrer.email) if "стал клиентом" in m.subject]
    assert len(bought) == 1 and "123.00 RUB" in bought[0].text


def test_payments_after_the_programs_months_earn_nothing(boris, referrer, program):
    """One month of rewards from the first payment (5 April): the April invoice paid on
    6 May is past 5 May and earns nothing."""
    program.months = 1
    program.save()
    pay(march_invoice(boris), APRIL_5)
    bill("2025-04-30")
    pay(Invoice.objects.get(customer=boris, period_start__gt=MARCH_1), MAY_6)
    deliver()
    assert [r.amount for r in Reward.objects.all()] == [D("123.00")]


def test_the_reward_is_a_credit_line_on_the_referrers_next_invoice(boris, referrer):
    """Irina's April invoice (``ringup bill``): 1,640.00 less the 123.00 reward = 1,517.00."""
    pay(march_invoice(boris), APRIL_5)
    deliver()
    bill("2025-04-30")
    april = Invoice.objects.get(customer=referrer, period_start__gt=MARCH_1)
    (line,) = april.lines.filter(kind="credit")
    assert line.amount == D("-123.00") and "7.5% of invoice" in line.description
    assert april.total == D("1517.00")
    assert AccountCredit.objects.get(customer=referrer).used == D("123.00")


def test_a_fixed_bonus_is_paid_on_the_first_payment_only(boris, referrer, program):
    program.reward_kind = ReferralProgram.RewardKind.FIXED
    program.fixed_bonus = D("500.00")
    program.save()
    pay(march_invoice(boris), APRIL_5)
    bill("2025-04-30")
    pay(Invoice.objects.get(customer=boris, period_start__gt=MARCH_1), MAY_6)
    deliver()
    (reward,) = Reward.objects.all()
    assert (reward.kind, reward.amount) == ("first_payment", D("500.00"))


def test_a_refund_claws_the_unused_reward_back(boris, referrer):
    """Half of Boris's invoice is credited (820.00 of 1,640.00): half of the 123.00
    reward, 61.50, comes off Irina's credit, which has not been used yet."""
    invoice = march_invoice(boris)
    pay(invoice, APRIL_5)
    deliver()
    issue_credit_note(invoice, reason="Service outage", amount=D("820.00"), at=MAY_6)
    (clawback,) = claw_back_refunds(at=MAY_6)
    assert (clawback.amount, clawback.from_credit, clawback.carried) == (
        D("61.50"),
        D("61.50"),
        D("0.00"),
    )
    assert AccountCredit.objects.get(customer=referrer).amount == D("61.50")
    assert claw_back_refunds(at=MAY_6) == []  # once per credit note
    assert referral_summary(referrer)["rewards_earned"] == D("61.50")


def test_the_credit_note_event_claws_back_at_once(boris, referrer):
    """The same half refund, without the periodic job: billing emits
    ``credit_note.issued`` in the credit note's transaction (once, keyed by the note) and
    the program's consumer takes 61.50 back as soon as the event is delivered."""
    invoice = march_invoice(boris)
    pay(invoice, APRIL_5)
    deliver()
    note = issue_credit_note(invoice, reason="Service outage", amount=D("820.00"), at=MAY_6)
    (event,) = Event.objects.filter(kind="credit_note.issued")
    assert (event.key, event.customer_id, event.at) == (
        f"credit_note.issued:{note.pk}",
        boris.pk,
        MAY_6,
    )
    assert event.payload["credit_note"]["total"] == "820.00"
    assert event.payload["invoice"]["id"] == invoice.pk
    assert not Clawback.objects.exists()
    deliver("referrals")
    clawback = Clawback.objects.get()
    assert (clawback.credit_note_id, clawback.amount) == (note.pk, D("61.50"))
    assert AccountCredit.objects.get(customer=referrer).amount == D("61.50")
    assert claw_back_refunds(at=MAY_6) == []  # the safety net finds nothing left to do


def test_a_reward_already_used_is_set_off_against_the_next_one(boris, referrer):
    """Irina's April invoice used the 123.00; then Boris's March invoice is credited in
    full: the 123.00 is carried, and his April payment's reward (123.00) settles it, so
    no new credit is granted."""
    invoice = march_invoice(boris)
    pay(invoice, APRIL_5)
    deliver()
    bill("2025-04-30")
    issue_credit_note(invoice, reason="Refund", at=MAY_6)
    (clawback,) = claw_back_refunds(at=MAY_6)
    assert (clawback.from_credit, clawback.carried) == (D("0.00"), D("123.00"))
    pay(Invoice.objects.get(customer=boris, period_start__gt=MARCH_1), MAY_6)
    deliver()
    second = Reward.objects.get(source_key__contains="invoice", invoice_id__gt=invoice.pk)
    assert second.amount == D("123.00") and second.credit is None
    assert Clawback.objects.get().settled == D("123.00")
    assert AccountCredit.objects.filter(customer=referrer).count() == 1


def test_paying_with_the_referrers_card_is_a_self_referral(boris, referrer):
    """Irina pays her March invoice with a card; Boris's March invoice is paid with the
    same card (the provider reports the same fingerprint): one payer behind both
    accounts. The referral is rejected (same_payer), earns nothing, and Boris no longer
    counts as Irina's referral. Another card would have earned 123.00."""
    card = "card:fp_7Hq2xK9Lm3"
    record_payment(
        referrer,
        amount=D("1640.00"),
        currency="RUB",
        reference="PP-irina-march",
        payer_reference=card,
        at=APRIL_5,
    )
    record_payment(
        boris,
        amount=march_invoice(boris).total,
        currency="RUB",
        reference="PP-boris-march",
        payer_reference=f" {card} ",
        at=APRIL_5,
    )
    deliver()
    referral = Referral.objects.get()
    assert (referral.status, referral.reason) == (Referral.Status.REJECTED, "same_payer")
    assert not Reward.objects.exists()
    boris.refresh_from_db()
    assert boris.referrer is None
    assert [m for m in mails_to(referrer.email) if "стал клиентом" in m.subject] == []


def test_a_different_card_is_no_self_referral(boris, referrer):
    for customer, card in ((referrer, "card:fp_irina"), (boris, "card:fp_boris")):
        record_payment(
            customer,
            amount=march_invoice(customer).total,
            currency="RUB",
            reference=f"PP-{customer.pk}",
            payer_reference=card,
            at=APRIL_5,
        )
    deliver()
    assert Referral.objects.get().status == Referral.Status.CONVERTED
    assert [r.amount for r in Reward.objects.all()] == [D("123.00")]
