"""The demo mailings: one example per circle, two languages, HTML and text; the
registration lead magnet arrives over SMTP in the customer's language."""

import re
from datetime import timedelta

import pytest
from django.db import transaction

from ringup.demo.mailings import TEMPLATES, load_mailings
from ringup.demo.promotions import load_promotions
from ringup.events.services import dispatch, emit
from ringup.marketing.mailings import rendering, services
from ringup.marketing.mailings.models import Mailing, Recipient, Template
from ringup.marketing.segments.models import Segment
from ringup.marketing.segments.selectors import members

from .conftest import AT, make_customers

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(catalog):
    load_promotions(at=AT)
    return load_mailings(at=AT)


def test_the_demo_mailings_load_once(demo):
    again = load_mailings(at=AT)
    assert Mailing.objects.count() == len(demo.mailings) == len(again.mailings) == 5
    assert Template.objects.count() == len(TEMPLATES) == 5
    for template in Template.objects.all():
        assert set(template.variants.values_list("language", flat=True)) == {"en", "ru"}
    active = set(
        Mailing.objects.filter(status=Mailing.Status.ACTIVE).values_list("trigger_kind", flat=True)
    )
    # Only the event-triggered ones write by themselves; the segment mailings are drafts.
    assert active == {"customer.registered", "subscription.changed"}
    for mailing in Mailing.objects.all():
        services.validate(mailing)  # each one can be activated as it is


def test_every_variant_renders_in_both_languages(demo):
    customers = {
        lang: make_customers(1, language=lang, start=i)[0] for i, lang in enumerate(["en", "ru"])
    }
    for template in Template.objects.all():
        for language, customer in customers.items():
            rendered = services.preview(template, customer)
            assert customer.name in rendered.subject or customer.name in rendered.html
            assert "{{" not in rendered.html + rendered.text
            assert re.search(r"https://ringup.example/(portal|pricing)/", rendered.text)
            if language == "ru":
                assert "Здравствуйте" in rendered.text
            assert rendering.variant_for(template, language).language == language


def test_the_segments_compile(demo):
    for name in (
        "Look-alike seed: paying customers of the last 12 months",
        "Registered, no service yet",
        "Invoiced 12,000 a year",
        "Recommended us: brought a customer",
    ):
        assert members(Segment.objects.get(name=name), at=AT).count() == 0


def test_registration_sends_the_checklist_in_russian(demo, smtp):
    [customer] = make_customers(1, language="ru")
    # Without the control group here: this customer must be mailed.
    Mailing.objects.filter(trigger_kind="customer.registered").update(holdout_percent=0)
    with transaction.atomic():
        emit("customer.registered", at=AT, payload={}, customer_id=customer.pk)
    dispatch(at=AT, consumers=["mailings"])
    assert Recipient.objects.get().customer == customer
    assert services.send_due(at=AT + timedelta(minutes=9))["sent"] == 0  # 10 minutes' delay
    assert services.send_due(at=AT + timedelta(minutes=10))["sent"] == 1
    [message] = smtp.wait_for(1)
    assert "чек-лист" in message["Subject"]
    assert "List-Unsubscribe" in message
    assert "Customer 0" in message.get_body(("plain",)).get_content()
