"""Fixtures for mailings: a real SMTP server, customers, a two-language template."""

from datetime import UTC, datetime

import pytest

from ringup.customers.models import Customer
from ringup.marketing.mailings.models import Mailing, Template, TemplateVariant
from tests.notifications.smtp import smtp_server

AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
def smtp(settings):
    """A real SMTP server, the e-mail settings pointed at it as RINGUP_EMAIL_URL would."""
    from ringup.notifications.conf import email_settings

    with smtp_server() as (inbox, port):
        for name, value in email_settings(f"smtp://127.0.0.1:{port}").items():
            setattr(settings, name, value)
        yield inbox


@pytest.fixture(autouse=True)
def _mail_settings(settings):
    settings.PUBLIC_URL = "https://ringup.example"
    settings.RINGUP_MAILINGS_RATE = 0
    settings.RINGUP_MAILINGS_BATCH = 20


def make_customers(count: int, *, language: str = "en", start: int = 0) -> list[Customer]:
    return Customer.objects.bulk_create(
        Customer(
            name=f"Customer {n}",
            email=f"c{n}@example.com",
            language=language,
            tier="micro",
            registered_at=AT,
        )
        for n in range(start, start + count)
    )


@pytest.fixture
def template(db):
    template = Template.objects.create(name="News", default_language="en")
    TemplateVariant.objects.create(
        template=template,
        language="en",
        subject="News for {{ customer_name }}",
        html='<p>Hello {{ customer_name }}, your plan is {{ plan|default:"none" }}.</p>'
        '<p><a href="https://ringup.example/pricing/">See prices</a></p>',
        text="Hello {{ customer_name }}. Prices: {{ links.pricing }}",
    )
    TemplateVariant.objects.create(
        template=template,
        language="ru",
        subject="Новости для {{ customer_name }}",
        html="<p>Здравствуйте, {{ customer_name }}!</p>",
        text="Здравствуйте, {{ customer_name }}!",
    )
    return template


@pytest.fixture
def mailing_of(template):
    def make(**fields) -> Mailing:
        fields.setdefault("name", "March news")
        fields.setdefault("holdout_percent", 0)
        return Mailing.objects.create(template=template, **fields)

    return make


# A real Celery worker on Redis, as the outbox tests start it.
from tests.events.conftest import redis_broker, start_worker  # noqa: E402, F401
