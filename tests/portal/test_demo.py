"""``ringup demo-data`` gives the portal a login with a history and help articles."""

from io import StringIO

import pytest
from django.core.management import call_command

from ringup.customers.models import Customer
from ringup.demo.portal import PORTAL_EMAIL, PORTAL_PASSWORD, load_portal_demo
from ringup.portal.models import HelpArticle


@pytest.mark.django_db
def test_the_demo_customer_can_log_in_and_has_invoices(client):
    out = StringIO()
    call_command("demo_data", customers=40, months=3, seed=3, until="2025-03-01", stdout=out)
    assert f"{PORTAL_EMAIL}, password {PORTAL_PASSWORD}" in out.getvalue()
    customer = Customer.objects.get(user__username=PORTAL_EMAIL)
    assert customer.invoices.exists()
    assert HelpArticle.objects.filter(language="en").count() == 6
    assert HelpArticle.objects.filter(language="ru").count() == 6
    assert client.login(username=PORTAL_EMAIL, password=PORTAL_PASSWORD)
    page = client.get("/portal/")
    assert page.status_code == 200 and customer.name in page.content.decode()

    again = load_portal_demo()  # a second run keeps the login and the articles as they are
    assert again.customer == customer and "already existed" in again.login
    assert HelpArticle.objects.count() == 12
