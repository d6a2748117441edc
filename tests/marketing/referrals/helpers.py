"""Signing a referred customer up through the site's real sign-up API and its e-mailed
verification link."""

import re
from datetime import UTC, datetime

import time_machine

from ringup.customers.models import Customer
from ringup.notifications import mailfolder

PASSWORD = "Tariff-Calculator-2026"
SIGNED_UP = datetime(2025, 2, 20, 10, tzinfo=UTC)


def mails_to(address: str) -> list[mailfolder.StoredMessage]:
    return [m for m in mailfolder.messages() if not m.is_sms and address in m.to]


def sign_up(client, email: str, phone: str, code: str = "", *, verify: bool = True):
    """POST /api/v1/signup (with ``code`` as the referral code) and, with ``verify``,
    open the verification link: that creates the customer. Returns it (or ``None``)."""
    with time_machine.travel(SIGNED_UP, tick=False):
        body = {"email": email, "phone": phone, "password": PASSWORD, "plan": "office-pbx"}
        if code:
            body["referral_code"] = code
        response = client.post("/api/v1/signup", body, content_type="application/json")
        assert response.status_code == 201, response.content
        if verify:
            verify_email(client, email)
    return Customer.objects.filter(email=email.lower()).first()


def verify_email(client, email: str) -> None:
    (message,) = [m for m in mails_to(email.lower()) if "confirm-email" in m.text]
    link = re.search(r"https?://\S+", message.text).group(0).replace("http://testserver", "")
    with time_machine.travel(SIGNED_UP, tick=False):
        assert client.post(link).status_code in (200, 302)
