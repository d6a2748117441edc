"""Two customers with portal logins, each with a subscription, invoices and calls, at a
fixed instant: 21 March 2025, 12:00 in Moscow (UTC+3 all year).

Office PBX, 10 employees, started 10 January without a trial: paid from 11 January, so
the periods run 11 Jan – 10 Feb, 11 Feb – 10 Mar (both invoiced) and 11 Mar – 10 Apr (the
period under way, 20 days and 12 hours of its 31 days left at the fixed instant).
"""

from datetime import UTC, datetime

import pytest

from ringup.billing.models import Subscription
from ringup.billing.services.invoicing import bill
from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.engine.rating import Numbering
from ringup.usage.services import import_cdr_file

NOW = datetime(2025, 3, 21, 9, tzinfo=UTC)
STARTED = datetime(2025, 1, 10, 9, tzinfo=UTC)
MARCH_11 = datetime(2025, 3, 10, 21, tzinfo=UTC)  # local midnight

# Moscow local times; 8495… is Moscow local (0.90/min, by the minute), 8916… Russia
# mobile (1.90/min by the second). Each customer dials numbers of their own.
CDRS = (
    "id,account,src,dst,start,duration\n"
    "{a}-f1,{a},74951110000,8495{n},2025-02-20T10:00:00,300\n"  # Feb: 5 min local
    "{a}-m1,{a},74951110000,8916{n},2025-03-12T10:00:00,90\n"  # Mar: 1.5 min mobile
    "{a}-m2,{a},74951110000,8495{n},2025-03-15T15:30:00,125\n"  # Mar: 3 min local
    "{a}-m3,{a},74951110000,8495{n},2025-03-18T09:00:00,0\n"  # Mar: not answered
)


@pytest.fixture
def frozen(time_machine):
    time_machine.move_to(NOW, tick=False)
    return NOW


def make_customer(django_user_model, name: str, email: str, account: str) -> Customer:
    user = django_user_model.objects.create_user(email, email, "portal-pw-123!")
    return Customer.objects.create(
        name=name,
        email=email,
        phone="+74951234567",
        tier="smb",
        employees=10,
        language="en",
        account=account,
        registered_at=STARTED,
        user=user,
    )


def history(customer: Customer, tmp_path, digits: str) -> Subscription:
    subscription = start_subscription(
        customer, StartRequest(plan="office-pbx", employees=10, trial=False), at=STARTED
    )
    path = tmp_path / f"{customer.account}.csv"
    path.write_text(CDRS.format(a=customer.account, n=digits))
    import_cdr_file(path, source="pbx", numbering=Numbering(country="RU"))
    bill(until=MARCH_11, at=NOW)
    return subscription


@pytest.fixture
def alice(catalog, django_user_model, tmp_path, frozen):
    customer = make_customer(django_user_model, "Alpha Trading LLC", "alice@alpha.example", "acc-a")
    customer.subscription = history(customer, tmp_path, "1234567")
    return customer


@pytest.fixture
def bob(catalog, django_user_model, tmp_path, frozen):
    customer = make_customer(django_user_model, "Beta Logistics", "bob@beta.example", "acc-b")
    customer.subscription = history(customer, tmp_path, "7654321")
    return customer


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice.user)
    return client
