"""Changing a subscription from the portal: choose, see the proration from
``preview_change``, confirm, and the dashboard shows the new configuration and the grown
next invoice. Worked figures use the fixed instant of ``conftest`` (Office PBX, 10
employees: 890 + 10 × 75 = 1,640.00 a month; the period 11 Mar – 10 Apr has 31 days,
20 days 12 hours of it left, i.e. 1,771,200 of 2,678,400 seconds)."""

from datetime import timedelta
from decimal import Decimal as D

import pytest
from django.core import signing
from django.db import transaction
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringup.billing.services.subscriptions import (
    ChangeRequest,
    change_subscription,
    preview_change,
)
from ringup.engine.pricing import SelectionError
from ringup.portal import selectors
from ringup.portal.services import CHANGE_SALT

from .conftest import NOW


def preview(client, subscription, query):
    return client.get(reverse("portal:preview", args=[subscription.pk]) + query)


def confirm(client, subscription, token):
    return client.post(reverse("portal:confirm", args=[subscription.pk]), {"token": token})


def test_adding_an_option_shows_the_services_proration_and_confirms_exactly_it(alice_client, alice):
    """CRM integration, 490.00 a month and 1,990.00 once, added with 1,771,200 of
    2,678,400 seconds left: net 490 × 1,771,200 / 2,678,400 = 324.032… → 324.03; charge
    2,130 × … = 1,408.548… → 1,408.55; credit 324.03 − 1,408.55 = −1,084.52; with the
    connection fee 324.03 + 1,990.00 = 2,314.03 is added to this period's invoice."""
    subscription = alice.subscription
    before = selectors.next_invoice(subscription, NOW)
    page = preview(alice_client, subscription, "?add=crm-integration")
    assert page.status_code == 200

    expected = preview_change(subscription, ChangeRequest(options=("crm-integration",)), at=NOW)
    outcome = page.context["outcome"]
    assert outcome == expected
    assert [line.total for line in outcome.lines] == [D("-1084.52"), D("1408.55"), D("1990.00")]
    assert outcome.totals.total == D("2314.03")
    html = page.content.decode()
    assert "₽2,314.03" in html and "−₽1,084.52" in html
    assert f"₽{before.total + D('2314.03'):,}" in html  # the next invoice after the change
    assert not subscription.items.exists()  # a preview writes nothing

    done = confirm(alice_client, subscription, page.context["token"])
    assert done.status_code == 302 and done["Location"] == reverse("portal:dashboard")
    assert list(subscription.items.values_list("option__code", flat=True)) == ["crm-integration"]
    after = selectors.next_invoice(subscription, NOW)
    assert after.total - before.total == D("2314.03")

    dashboard = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "CRM integration" in dashboard and "Done: your subscription is updated." in dashboard
    assert f"₽{after.total:,}" in dashboard
    assert "₽2,130.00" in dashboard  # the monthly price now


def test_a_confirmation_applies_at_the_previewed_instant_and_only_once(
    alice_client, alice, time_machine
):
    page = preview(alice_client, alice.subscription, "?employees=15")
    token = page.context["token"]
    time_machine.shift(300)  # five minutes of reading later, the price holds
    assert confirm(alice_client, alice.subscription, token).status_code == 302
    alice.subscription.refresh_from_db()
    assert alice.subscription.employees == 15
    change = alice.subscription.changes.get(kind="employees")
    assert change.at == NOW
    again = confirm(alice_client, alice.subscription, token)
    assert again.status_code == 302 and again["Location"].endswith("/change/")
    assert alice.subscription.changes.filter(kind="employees").count() == 1


def test_an_old_or_altered_preview_is_refused(alice_client, alice, time_machine):
    token = preview(alice_client, alice.subscription, "?employees=15").context["token"]
    forged = signing.dumps(
        {**signing.loads(token, salt=CHANGE_SALT), "employees": 1}, salt="another"
    )
    assert confirm(alice_client, alice.subscription, forged)["Location"].endswith("/change/")
    time_machine.shift(16 * 60)
    assert confirm(alice_client, alice.subscription, token)["Location"].endswith("/change/")
    alice.subscription.refresh_from_db()
    assert alice.subscription.employees == 10


def test_an_upgrade_and_a_bad_number_of_employees(alice_client, alice):
    page = preview(alice_client, alice.subscription, "?plan=contact-centre")
    assert page.context["outcome"].kinds == ("upgrade",)
    assert confirm(alice_client, alice.subscription, page.context["token"]).status_code == 302
    alice.subscription.refresh_from_db()
    assert alice.subscription.plan.code == "contact-centre"

    refused = preview(alice_client, alice.subscription, "?employees=100000")
    assert refused.status_code == 422
    assert "employees" in refused.context["errors"]
    unknown = preview(alice_client, alice.subscription, "?add=no-such-option")
    assert unknown.status_code == 422 and "add" in unknown.context["errors"]


def test_removing_an_option_credits_the_rest_of_the_period(alice_client, alice):
    page = preview(alice_client, alice.subscription, "?add=missed-call-sms")
    confirm(alice_client, alice.subscription, page.context["token"])
    # Removing it at the same instant credits exactly what adding it charged.
    removal = preview(alice_client, alice.subscription, "?remove=missed-call-sms")
    assert removal.context["outcome"].totals.total == -page.context["outcome"].totals.total


def test_cancelling_ends_the_service_at_the_end_of_the_period(alice_client, alice):
    url = reverse("portal:cancel", args=[alice.subscription.pk])
    assert b"10 Apr 2025" in alice_client.get(url).content
    response = alice_client.post(url)
    assert response.status_code == 302
    alice.subscription.refresh_from_db()
    assert alice.subscription.ended_at == selectors.service(alice.subscription, NOW).period_end
    dashboard = alice_client.get(reverse("portal:dashboard")).content.decode()
    assert "Ends 11 Apr 2025" in dashboard
    assert "Add in one click" not in dashboard  # a cancelled service takes no change


@pytest.mark.parametrize("query", ["?employees=abc", "?option=x&options=1"])
def test_unreadable_input_is_a_422_naming_the_field(alice_client, alice, query):
    response = preview(alice_client, alice.subscription, query)
    assert response.status_code == 422


def test_more_numbers_and_a_minute_bundle_through_the_same_flow(alice_client, alice):
    page = preview(alice_client, alice.subscription, "?numbers=3&package=min-1000")
    assert page.status_code == 200, page.context.get("errors")
    outcome = page.context["outcome"]
    assert (outcome.after.numbers, outcome.after.traffic_package) == (3, "min-1000")
    assert "1,000 minutes to Russian numbers" in page.content.decode()
    confirm(alice_client, alice.subscription, page.context["token"])
    alice.subscription.refresh_from_db()
    assert alice.subscription.numbers == 3
    assert alice.subscription.traffic_package.code == "min-1000"
    removal = preview(alice_client, alice.subscription, "?package=none")
    assert removal.context["outcome"].after.traffic_package is None


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    seconds=st.integers(min_value=0, max_value=1_771_199),
    employees=st.integers(min_value=2, max_value=60),
    options=st.sets(st.sampled_from(["crm-integration", "call-recording-pro", "callback-widget"])),
)
def test_the_next_invoice_moves_by_exactly_the_amount_due_now(alice, seconds, employees, options):
    """Whatever is changed, whenever in the rest of the period: the next invoice after the
    change is the one before plus the preview's amount due now, to the kopeck."""
    at = NOW + timedelta(seconds=seconds)
    request = ChangeRequest(employees=employees, options=tuple(sorted(options)))
    with transaction.atomic():
        before = selectors.next_invoice(alice.subscription, at)
        try:
            previewed = preview_change(alice.subscription, request, at=at)
        except SelectionError:  # nothing would change
            transaction.set_rollback(True)
            return
        change_subscription(alice.subscription, request, at=at)
        after = selectors.next_invoice(alice.subscription, at)
        transaction.set_rollback(True)
    assert after.total - before.total == previewed.totals.total
