"""Every portal page needs a login linked to a customer, and shows that customer's rows
only: another customer's subscription, invoice, document, PDF or calls answer 404."""

import pytest
from django.urls import reverse

from ringup.billing.models import Invoice, Subscription
from ringup.usage.models import RatedCall

PAGES = [
    "portal:dashboard",
    "portal:invoices",
    "portal:usage",
    "portal:usage_csv",
    "portal:profile",
    "portal:help",
]


@pytest.mark.parametrize("name", PAGES)
def test_anonymous_visitors_are_sent_to_the_login(client, db, name):
    url = reverse(name)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].endswith(f"?next={url}")


def test_anonymous_visitors_cannot_see_an_invoice_or_change_anything(client, alice):
    invoice = alice.invoices.first()
    sub = alice.subscription.pk
    for url in (
        reverse("portal:invoice_pdf", args=[invoice.pk]),
        reverse("portal:invoice_document", args=[invoice.pk]),
        reverse("portal:preview", args=[sub]) + "?add=crm-integration",
    ):
        assert client.get(url).status_code == 302
    assert client.post(reverse("portal:cancel", args=[sub])).status_code == 302
    assert client.post(reverse("portal:confirm", args=[sub]), {"token": "x"}).status_code == 302
    assert Subscription.objects.get(pk=sub).ended_at is None


def test_a_login_without_a_customer_gets_a_clear_page(client, django_user_model, db):
    user = django_user_model.objects.create_user("staff", "staff@example.com", "pw-123456!")
    client.force_login(user)
    response = client.get(reverse("portal:dashboard"))
    assert response.status_code == 403
    assert b"no customer account" in response.content


def test_another_customers_invoice_document_and_pdf_answer_404(alice_client, alice, bob):
    theirs = Invoice.objects.filter(customer=bob).first()
    mine = Invoice.objects.filter(customer=alice).first()
    for name in ("portal:invoice", "portal:invoice_document", "portal:invoice_pdf"):
        response = alice_client.get(reverse(name, args=[theirs.pk]))
        assert response.status_code == 404
        assert theirs.number not in response.content.decode()
    assert alice_client.get(reverse("portal:invoice", args=[mine.pk])).status_code == 200
    listing = alice_client.get(reverse("portal:invoices")).content.decode()
    assert mine.number in listing and theirs.number not in listing


def test_another_customers_subscription_cannot_be_seen_changed_or_cancelled(
    alice_client, alice, bob
):
    theirs = bob.subscription.pk
    for name, query in (("portal:change", ""), ("portal:preview", "?add=crm-integration")):
        assert alice_client.get(reverse(name, args=[theirs]) + query).status_code == 404
    assert alice_client.get(reverse("portal:cancel", args=[theirs])).status_code == 404
    assert alice_client.post(reverse("portal:cancel", args=[theirs])).status_code == 404
    assert Subscription.objects.get(pk=theirs).ended_at is None


def test_a_change_signed_for_one_subscription_cannot_be_replayed_on_another(
    alice_client, alice, bob, django_user_model
):
    """Bob previews on his own subscription; the token he gets is refused on Alice's, and
    Alice's token is refused on Bob's (404: not hers)."""
    bob_client = type(alice_client)()
    bob_client.force_login(bob.user)
    page = bob_client.get(
        reverse("portal:preview", args=[bob.subscription.pk]) + "?add=crm-integration"
    )
    token = page.context["token"]
    response = bob_client.post(
        reverse("portal:confirm", args=[alice.subscription.pk]), {"token": token}
    )
    assert response.status_code == 404
    mine = alice_client.get(
        reverse("portal:preview", args=[alice.subscription.pk]) + "?add=crm-integration"
    ).context["token"]
    response = alice_client.post(
        reverse("portal:confirm", args=[bob.subscription.pk]), {"token": mine}
    )
    assert response.status_code == 404
    assert not bob.subscription.items.exists()


def test_calls_and_csv_show_only_the_customers_own_calls(alice_client, alice, bob):
    assert RatedCall.objects.filter(customer=bob).count() == 4
    page = alice_client.get(reverse("portal:usage") + "?month=2025-03")
    calls = list(page.context["page"].object_list)
    assert {call.customer_id for call in calls} == {alice.pk}
    assert len(calls) == 3
    csv = alice_client.get(reverse("portal:usage_csv") + "?month=2025-03")
    body = b"".join(csv.streaming_content).decode()
    assert body.count("\n") == 1 + 3
    assert "1234567" in body and "7654321" not in body
