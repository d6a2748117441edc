"""POST /api/v1/signup: the same sign-up as the page, for partners' sites and apps."""

import pytest
from allauth.account.models import EmailAddress

from ringup.events.models import Event
from ringup.site.models import Signup

from .helpers import PASSWORD, last_mail, link_in

pytestmark = pytest.mark.django_db

BODY = {
    "email": "Boris@Example.com",
    "phone": "8 916 765-43-21",
    "password": PASSWORD,
    "plan": "office-pbx",
    "options": ["crm-integration"],
    "employees": 5,
    "period": "monthly",
    "referral_code": "FRIEND42",
}


def post(client, **overrides):
    body = {key: value for key, value in {**BODY, **overrides}.items() if value is not None}
    return client.post("/api/v1/signup", body, content_type="application/json")


def errors(response) -> dict:
    assert response.status_code == 422, response.content
    return {item["loc"][-1]: item["msg"] for item in response.json()["detail"]}


def test_signup_returns_201_and_emails_the_link(client, catalog):
    response = post(client)
    assert response.status_code == 201
    signup = Signup.objects.get()
    assert response.json() == {"id": signup.pk, "detail": "verification e-mail sent"}
    assert signup.email == "boris@example.com" and signup.phone == "+79167654321"
    assert (signup.source, signup.referral_code) == ("referral", "FRIEND42")
    assert signup.options == ["crm-integration"] and signup.employees == 5
    assert EmailAddress.objects.get(email="boris@example.com").verified is False
    assert signup.user.password.startswith("argon2")
    assert "/accounts/confirm-email/" in link_in(last_mail("boris@example.com"))
    assert Event.objects.filter(kind="customer.registered").count() == 1


def test_the_emailed_link_creates_the_customer_and_the_phone_code_starts_the_trial(client, catalog):
    post(client)
    client.post(link_in(last_mail("boris@example.com")))
    signup = Signup.objects.get()
    assert signup.customer is not None and signup.subscription is None  # phone not yet


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"plan": "no-such-plan"}, "plan", "unknown plan"),
        ({"phone": "12"}, "phone", "valid phone number"),
        ({"phone": "+7 495 123-45-67"}, "phone", "mobile number"),
        ({"password": "12345678"}, "password", "too common"),
        ({"password": "short"}, "password", "too short"),
        ({"options": ["wallboard"]}, "options", "wallboard"),
        ({"employees": 900}, "employees", "between"),
        ({"email": "not-an-address"}, "email", "valid e-mail"),
    ],
)
def test_bad_fields_are_422_naming_the_field(client, catalog, overrides, field, message):
    found = errors(post(client, **overrides))
    assert field in found and message in found[field].lower(), found
    assert Signup.objects.count() == 0


def test_an_address_or_number_already_used_is_422(client, catalog):
    assert post(client).status_code == 201
    assert "already been used" in errors(post(client, phone="+79160000001"))["email"]
    assert "already been used" in errors(post(client, email="new@example.com"))["phone"]
    assert Signup.objects.count() == 1


def test_schema_errors_are_422(client, catalog):
    assert post(client, employees="5").status_code == 422  # strict: a count is a number
    assert client.post("/api/v1/signup", "{", content_type="application/json").status_code in (
        400,
        422,
    )


def test_signup_is_rate_limited(client, catalog, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    assert post(client).status_code == 201
    assert post(client, email="c@example.com", phone="+79160000002").status_code == 201
    response = post(client, email="d@example.com", phone="+79160000003")
    assert response.status_code == 429 and Signup.objects.count() == 2


def test_signup_is_rate_limited_per_phone_prefix(client, catalog, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "signup_phone_prefix": "1/h/key",
    }
    assert post(client, phone="+79161110001").status_code == 201
    response = post(client, email="c@example.com", phone="+79161110002")  # prefix 7916111
    assert response.status_code == 429
    assert post(client, email="d@example.com", phone="+79262220003").status_code == 201


def test_the_openapi_document_describes_signup(client, catalog):
    spec = client.get("/api/v1/openapi.json").json()
    operation = spec["paths"]["/api/v1/signup"]["post"]
    assert set(operation["responses"]) >= {"201", "422", "429"}


def test_a_request_without_a_client_address_is_403_not_an_error(client, catalog):
    response = client.post("/api/v1/signup", BODY, content_type="application/json", REMOTE_ADDR="")
    assert response.status_code == 403 and "IP address" in response.json()["detail"]
