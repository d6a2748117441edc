"""Walking a visitor through sign-up with Django's test client and the mail folder."""

import re

from ringup.notifications import mailfolder

PASSWORD = "Tariff-Calculator-2026"


def form(**overrides) -> dict:
    data = {
        "email": "anna@example.com",
        "phone": "+7 916 123-45-67",
        "password1": PASSWORD,
        "plan": "office-pbx",
        "employees": "12",
        "options": "crm-integration",
        "period": "annual",
        "origin": "calculator",
    }
    return {key: value for key, value in {**data, **overrides}.items() if value is not None}


def last_sms(phone: str) -> str:
    """The code of the newest SMS to ``phone`` in the mail folder."""
    for message in mailfolder.messages():
        if message.is_sms and message.to == phone:
            return re.search(r"\b(\d{6})\b", message.text).group(1)
    raise AssertionError(f"no SMS to {phone}")


def last_mail(to: str) -> mailfolder.StoredMessage:
    for message in mailfolder.messages():
        if not message.is_sms and to in message.to:
            return message
    raise AssertionError(f"no e-mail to {to}")


def link_in(message: mailfolder.StoredMessage) -> str:
    return re.search(r"https?://\S+", message.text).group(0).replace("http://testserver", "")


def sign_up(client, **overrides):
    """Submit the form and confirm the phone; returns the response after the code."""
    data = form(**overrides)
    response = client.post("/signup/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert response["Location"] == "/accounts/phone/verify/"
    phone = re.sub(r"[^\d+]", "", data["phone"])
    return client.post("/accounts/phone/verify/", {"code": last_sms(phone)})
