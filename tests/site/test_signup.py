"""Trial sign-up through the site: form → SMS code → e-mail link → customer and trial."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError
from django.utils import timezone

from ringup.billing.models import Subscription
from ringup.catalog import services as catalog_services
from ringup.customers.models import Customer
from ringup.events.models import Event
from ringup.notifications import mailfolder
from ringup.site.models import Signup

from .helpers import PASSWORD, form, last_mail, link_in, sign_up

pytestmark = pytest.mark.django_db


def confirm_email(client, to="anna@example.com"):
    link = link_in(last_mail(to))
    assert client.get(link).status_code == 200  # the confirmation page: a button, no change
    return client.post(link)


def test_the_signup_page_shows_the_offer_it_was_opened_with(client, catalog):
    response = client.get(
        "/signup/",
        {
            "plan": "office-pbx",
            "employees": "12",
            "options": "crm-integration",
            "period": "annual",
            "origin": "calculator",
        },
    )
    html = response.content.decode()
    assert response.status_code == 200
    assert "Try Office PBX free" in html and "14 days, free" in html
    assert "CRM integration" in html and "Annual, paid in advance" in html
    for hidden in (
        'name="plan" value="office-pbx"',
        'name="employees" value="12"',
        'name="options" value="crm-integration"',
        'name="period" value="annual"',
        'name="origin" value="calculator"',
    ):
        assert hidden in html
    assert 'type="tel"' in html and 'type="email"' in html and 'type="password"' in html


def test_signup_verification_creates_the_customer_and_starts_the_trial(client, catalog):
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == "/accounts/confirm-email/"  # "check your inbox"
    signup = Signup.objects.get()
    assert signup.phone == "+79161234567" and signup.phone_verified_at is not None
    assert signup.source == Customer.Source.CALCULATOR
    assert Customer.objects.count() == 0  # nothing before the address is confirmed
    assert Event.objects.filter(kind="customer.registered").count() == 1

    mail = last_mail("anna@example.com")
    assert "Confirm your e-mail address" in mail.subject
    assert "14-day free trial of Office PBX" in mail.text
    assert "<table" in mail.html and "Confirm and start the trial" in mail.html

    response = confirm_email(client)
    assert response.status_code == 302 and response["Location"] == "/portal/"

    signup.refresh_from_db()
    customer = signup.customer
    assert customer.user == signup.user and customer.email == "anna@example.com"
    assert customer.phone == "+79161234567" and customer.email_verified_at is not None
    assert customer.source == "calculator" and customer.language == "en"
    subscription = Subscription.objects.get(customer=customer)
    assert subscription == signup.subscription
    assert subscription.status == Subscription.Status.TRIALING
    assert subscription.plan.code == "office-pbx" and subscription.period == "annual"
    assert subscription.employees == 12
    assert [o.option.code for o in subscription.items.all()] == ["crm-integration"]
    assert subscription.trial_ends_at - subscription.started_at == timedelta(days=14)
    assert subscription.trial_converts is False
    started = Event.objects.get(kind="trial.started")
    assert started.subscription_id == subscription.pk
    # The outbox hands the trial to provisioning with the same commit.
    assert started.deliveries.filter(consumer="provisioning").exists()
    verified = Event.objects.get(kind="customer.email_verified")
    assert verified.customer_id == customer.pk
    assert verified.payload["customer"]["email"] == "anna@example.com"
    assert signup.user.password.startswith("argon2")


def test_the_link_works_once(client, catalog):
    sign_up(client)
    link = link_in(last_mail("anna@example.com"))
    assert client.post(link)["Location"] == "/portal/"
    client.logout()
    again = client.post(link)
    assert again.status_code == 404  # the key is gone
    assert "This link has expired or was already used." in client.get(link).content.decode()
    assert Customer.objects.count() == 1 and Subscription.objects.count() == 1


def test_the_link_expires(client, catalog):
    sign_up(client)
    link = link_in(last_mail("anna@example.com"))
    with time_machine.travel(timezone.now() + timedelta(days=3, hours=1)):
        response = client.post(link)
    assert response.get("Location") != "/portal/"
    assert not EmailAddress.objects.get().verified
    assert Customer.objects.count() == 0


def test_a_wrong_sms_code_confirms_nothing(client, catalog):
    client.post("/signup/", form())
    response = client.post("/accounts/phone/verify/", {"code": "000000"})
    assert response.status_code == 200
    assert "Incorrect code" in response.content.decode()
    assert Signup.objects.get().phone_verified_at is None


def test_phone_is_normalised_and_validated(client, catalog):
    response = client.post("/signup/", form(phone="8 (916) 123 45 67"))
    assert response.status_code == 302
    assert Signup.objects.get().phone == "+79161234567"

    client.logout()
    html = client.post("/signup/", form(email="b@example.com", phone="12345")).content.decode()
    assert "Enter a valid phone number" in html
    landline = client.post("/signup/", form(email="c@example.com", phone="+7 495 123-45-67"))
    assert "please enter a mobile number" in landline.content.decode()


def test_one_trial_per_email_and_per_phone(client, catalog):
    sign_up(client)
    client.logout()
    client.cookies.clear()
    html = client.post("/signup/", form(phone="+79167654321")).content.decode()
    assert "This e-mail address has already been used for a trial." in html
    assert Signup.objects.count() == 1
    html = client.post("/signup/", form(email="other@example.com")).content.decode()
    assert "This phone number has already been used for a trial." in html
    assert Signup.objects.count() == 1


def test_the_database_refuses_a_second_trial_for_a_phone(catalog):
    user_model = get_user_model()
    first = user_model.objects.create_user("first", "first@example.com")
    second = user_model.objects.create_user("second", "second@example.com")
    common = {"phone": "+79161234567", "plan": catalog["office-pbx"], "created_at": timezone.now()}
    Signup.objects.create(user=first, email="first@example.com", **common)
    with pytest.raises(IntegrityError):
        Signup.objects.create(user=second, email="second@example.com", **common)


def test_the_database_refuses_a_second_trial_for_an_address_in_any_case(catalog):
    user_model = get_user_model()
    first = user_model.objects.create_user("first", "x@example.com")
    second = user_model.objects.create_user("second", "X@example.com")
    common = {"plan": catalog["office-pbx"], "created_at": timezone.now()}
    Signup.objects.create(user=first, email="x@example.com", phone="+79161111111", **common)
    with pytest.raises(IntegrityError):
        Signup.objects.create(user=second, email="X@Example.com", phone="+79162222222", **common)


def test_signups_are_limited_per_phone_prefix(client, catalog, settings):
    settings.ACCOUNT_RATE_LIMITS = {
        **settings.ACCOUNT_RATE_LIMITS,
        "signup_phone_prefix": "2/h/key",
    }
    for n in range(2):
        client.cookies.clear()
        response = client.post("/signup/", form(email=f"u{n}@example.com", phone=f"+7916123000{n}"))
        assert response.status_code == 302
    client.cookies.clear()
    html = client.post("/signup/", form(email="u3@example.com", phone="+79161230003")).content
    assert "Too many sign-ups for numbers like this one" in html.decode()
    client.cookies.clear()
    other = client.post("/signup/", form(email="u4@example.com", phone="+79265550004"))
    assert other.status_code == 302  # another prefix (7926555) is not affected
    assert Signup.objects.count() == 3


def test_signups_are_limited_per_ip(client, catalog, settings):
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "signup": "2/h/ip"}
    for n in range(2):
        client.cookies.clear()
        client.post("/signup/", form(email=f"u{n}@example.com", phone=f"+7916{n}234567"))
    client.cookies.clear()
    response = client.post("/signup/", form(email="u9@example.com", phone="+79269234567"))
    assert response.status_code == 429
    assert "Too many attempts" in response.content.decode()
    assert Signup.objects.count() == 2


def test_a_shared_quote_carries_its_selection(client, catalog):
    quote = catalog_services.create_quote(
        catalog_services.QuoteRequest(
            plan="contact-centre", employees=20, options=("speech-analytics",), period="annual"
        ),
        at=timezone.now(),
    )
    quote_page = client.get(f"/q/{quote.token}/").content.decode()
    assert f'href="/signup/?quote={quote.token}"' in quote_page
    html = client.get("/signup/", {"quote": quote.token}).content.decode()
    assert "Try Contact Centre free" in html and f"No. {quote.token}" in html
    sign_up(
        client, plan=None, employees=None, options=None, period=None, origin=None, quote=quote.token
    )
    signup = Signup.objects.get()
    assert signup.source == "quote" and signup.quote == quote
    assert (signup.plan.code, signup.employees, signup.period) == ("contact-centre", 20, "annual")
    assert signup.options == ["speech-analytics"]


def test_a_referral_link_on_any_page_is_kept_until_signup(client, catalog):
    client.get("/", {"ref": "FRIEND42"})
    html = client.get("/signup/", {"plan": "virtual-number"}).content.decode()
    assert 'data-testid="referral-code">FRIEND42<' in html
    sign_up(
        client,
        plan="virtual-number",
        employees=None,
        options=None,
        period=None,
        origin=None,
        ref="FRIEND42",
    )
    signup = Signup.objects.get()
    assert (signup.source, signup.referral_code) == ("referral", "FRIEND42")


def test_the_session_referral_code_counts_without_the_hidden_field(client, catalog):
    client.get("/pricing/", {"ref": "FRIEND42"})
    sign_up(client, plan="virtual-number", employees=None, options=None, period=None, origin=None)
    assert Signup.objects.get().referral_code == "FRIEND42"


def test_a_promo_code_is_carried_and_named_as_the_source(client, catalog):
    html = client.get("/signup/", {"plan": "office-pbx", "promo": "spring"}).content.decode()
    assert 'data-testid="promo-code">SPRING<' in html
    sign_up(client, promo="spring", origin=None)
    signup = Signup.objects.get()
    assert (signup.source, signup.promo_code) == ("promo", "SPRING")


def test_the_advisor_source(client, catalog):
    sign_up(client, origin="advisor")
    assert Signup.objects.get().source == "advisor"


def test_a_plain_signup_is_from_the_website_on_the_default_plan(client, catalog):
    html = client.get("/signup/").content.decode()
    assert "Try Office PBX free" in html
    sign_up(client, plan=None, employees=None, options=None, period=None, origin=None)
    signup = Signup.objects.get()
    assert (signup.source, signup.plan.code, signup.period) == ("website", "office-pbx", "monthly")


@pytest.mark.parametrize(
    "query, message",
    [
        ({"plan": "office-pbx", "options": "wallboard"}, "wallboard"),
        ({"plan": "no-such-plan"}, "unknown plan"),
        ({"plan": "office-pbx", "employees": "abc"}, "whole number"),
        ({"plan": "office-pbx", "period": "weekly"}, "valid choice"),
        ({"plan": "office-pbx", "quote": "nope"}, "No such quote"),
        ({"plan": "office-pbx", "promo": "no spaces!"}, "Not a valid code"),
    ],
)
def test_a_bad_offer_is_explained_not_a_server_error(client, catalog, query, message):
    response = client.get("/signup/", query)
    html = response.content.decode()
    assert response.status_code == 200
    assert "This link selects something we cannot offer" in html
    assert message.lower() in html.lower()
    assert 'name="password1"' not in html


def test_a_tampered_offer_in_the_form_is_refused(client, catalog):
    html = client.post("/signup/", form(options="wallboard")).content.decode()
    assert "This offer cannot be sold" in html or "cannot offer" in html
    assert Signup.objects.count() == 0


def test_weak_passwords_are_refused(client, catalog):
    html = client.post("/signup/", form(password1="12345678")).content.decode()
    assert "This password is too common" in html or "entirely numeric" in html
    assert Signup.objects.count() == 0


def test_csrf_is_required(catalog):
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/signup/", form()).status_code == 403


def test_email_confirmed_before_the_phone_waits_for_the_code(client, catalog):
    """The API's order: the link first (no session), the SMS code at the first login."""
    client.post("/signup/", form())
    client.cookies.clear()  # the link opened in another browser
    link = link_in(_confirmation_mail_after_resend(client))
    client.post(link)
    signup = Signup.objects.get()
    assert signup.customer is not None and signup.subscription is None

    cache.clear()  # the next code may go out 30 s after the first (verify_phone limit)
    response = client.post("/accounts/login/", {"login": "anna@example.com", "password": PASSWORD})
    assert response["Location"] == "/accounts/phone/verify/"
    from .helpers import last_sms

    response = client.post("/accounts/phone/verify/", {"code": last_sms("+79161234567")})
    assert response["Location"] == "/portal/"
    signup.refresh_from_db()
    assert signup.subscription.status == Subscription.Status.TRIALING


def _confirmation_mail_after_resend(client):
    from allauth.account.models import EmailAddress
    from django.test import RequestFactory

    request = RequestFactory().get("/")
    request.session = {}
    EmailAddress.objects.get().send_confirmation(request, signup=True)
    return last_mail("anna@example.com")


def test_login_by_email_and_logout(client, catalog):
    sign_up(client)
    confirm_email(client)
    client.post("/accounts/logout/")
    assert "_auth_user_id" not in client.session
    wrong = client.post("/accounts/login/", {"login": "anna@example.com", "password": "nope-nope"})
    assert wrong.status_code == 200 and "_auth_user_id" not in client.session
    response = client.post("/accounts/login/", {"login": "anna@example.com", "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/portal/"


def test_password_reset_link_works_once(client, catalog):
    sign_up(client)
    confirm_email(client)
    client.post("/accounts/logout/")
    client.post("/accounts/password/reset/", {"email": "anna@example.com"})
    mail = last_mail("anna@example.com")
    assert "Reset your password" in mail.subject and "Choose a new password" in mail.html
    link = link_in(mail)
    page = client.get(link)  # allauth moves the key into the session and redirects
    assert page.status_code == 302
    new = "Another-Long-Passphrase-7"
    done = client.post(page["Location"], {"password1": new, "password2": new})
    assert done.status_code == 302
    user = get_user_model().objects.get(email="anna@example.com")
    assert user.check_password(new)
    again = client.get(link, follow=True).content.decode()
    assert "Bad Token" in again or "invalid" in again.lower()


def test_russian_pages_and_mail(client, catalog):
    client.cookies["django_language"] = "ru"
    html = client.get("/signup/", {"plan": "office-pbx"}).content.decode()
    assert 'lang="ru"' in html and "Попробуйте Office PBX бесплатно" in html
    sign_up(client, origin=None)
    mail = last_mail("anna@example.com")
    assert "Подтвердите" in mail.subject and "пробный период" in mail.text
    assert Signup.objects.get().language == "ru"


def test_the_language_switch(client, catalog):
    response = client.post("/i18n/setlang/", {"language": "ru", "next": "/signup/"})
    assert response["Location"] == "/signup/"
    assert "Создайте учётную запись" in client.get("/signup/").content.decode()


def test_a_second_code_within_30_seconds_is_a_429_not_an_error(client, catalog):
    client.post("/signup/", form())
    client.cookies.clear()  # back at once, in another browser: the code limit still holds
    response = client.post("/accounts/login/", {"login": "anna@example.com", "password": PASSWORD})
    assert response.status_code == 429


def test_the_confirmation_page_asks_before_it_confirms(client, catalog):
    sign_up(client)
    html = client.get(link_in(last_mail("anna@example.com"))).content.decode()
    assert "Is <strong>anna@example.com</strong> your address?" in html
    assert not EmailAddress.objects.get().verified
    assert "Check your inbox" in client.get("/accounts/confirm-email/").content.decode()


def test_the_back_office_lists_signups(client, catalog):
    sign_up(client)
    client.logout()
    boss = get_user_model().objects.create_superuser("boss", "boss@example.com", "x")
    client.force_login(boss)
    html = client.get("/admin/public_site/signup/").content.decode()
    assert "anna@example.com" in html and "+79161234567" in html


def test_a_mail_server_that_is_down_is_explained_not_an_error(client, catalog, settings):
    import socket

    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    response = sign_up(client)
    assert response["Location"] == "/accounts/confirm-email/"
    html = client.get("/accounts/confirm-email/").content.decode()
    assert "We could not send the e-mail just now" in html
    assert Signup.objects.count() == 1  # the account stands; logging in sends a new link


def _verified_customer(client):
    sign_up(client)
    confirm_email(client)
    client.post("/accounts/logout/")


def test_failed_logins_are_limited_per_address(client, catalog):
    _verified_customer(client)
    for _ in range(5):  # "5/5m/key": five wrong passwords for one address
        client.post("/accounts/login/", {"login": "anna@example.com", "password": "wrong-one"})
    html = client.post(
        "/accounts/login/", {"login": "anna@example.com", "password": PASSWORD}
    ).content.decode()
    assert "Too many failed login attempts" in html
    assert "_auth_user_id" not in client.session


def test_password_reset_requests_are_limited(client, catalog, settings):
    _verified_customer(client)
    settings.ACCOUNT_RATE_LIMITS = {**settings.ACCOUNT_RATE_LIMITS, "reset_password": "2/h/key"}
    statuses = [
        client.post("/accounts/password/reset/", {"email": "anna@example.com"}).status_code
        for _ in range(3)
    ]
    assert statuses[:2] == [302, 302] and statuses[2] in (200, 429)
    resets = [m for m in mailfolder.messages() if m.subject.endswith("Reset your password")]
    assert len(resets) == 2


def test_password_reset_links_expire(client, catalog):
    _verified_customer(client)
    # Both moments travelled: Django's reset tokens count in naive local time.
    asked = timezone.now()
    with time_machine.travel(asked, tick=False):
        client.post("/accounts/password/reset/", {"email": "anna@example.com"})
    link = link_in(last_mail("anna@example.com"))
    with time_machine.travel(asked + timedelta(hours=2, minutes=55), tick=False):
        assert client.get(link).status_code == 302  # still valid: to the new-password form
    client.cookies.clear()
    with time_machine.travel(asked + timedelta(hours=3, minutes=5), tick=False):
        html = client.get(link, follow=True).content.decode()
    assert "Bad Token" in html
