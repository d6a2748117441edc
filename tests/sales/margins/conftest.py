"""Hand-made carrier decks, customers and rated calls for the margin monitor.

Retail is the configured demo deck (src/ringup/usage/decks/retail.csv): Russia mobile
(79) 1.90/min billed per second, Moscow (7495) 0.90/min billed per started minute.
Calls are stored as the CDR import stores them: retail cost and the carrier cost of the
deck they were rated with.
"""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from ringup.billing.services.subscriptions import StartRequest, start_subscription
from ringup.customers.models import Customer
from ringup.sales.margins.services import import_version
from ringup.usage.models import CdrFile, RatedCall

NOW = datetime(2025, 6, 1, 9, tzinfo=UTC)
STARTED = datetime(2025, 1, 10, 9, tzinfo=UTC)

DECK_V1 = b"""prefix,rate,connect_fee,first_increment,increment,description,min_duration
7,0.95,0,1,1,Russia long distance,
7495,0.25,0,1,1,Moscow local,
7499,0.25,0,1,1,Moscow local,
79,0.85,0,1,1,Russia mobile,
"""
# 79 raised 0.85 -> 1.60, 7 lowered 0.95 -> 0.90, 7499 removed, 7812 added.
DECK_V2 = b"""prefix,rate,connect_fee,first_increment,increment,description,min_duration
7,0.90,0,1,1,Russia long distance,
7495,0.25,0,1,1,Moscow local,
7812,0.60,0,1,1,St Petersburg,
79,1.60,0,1,1,Russia mobile,
"""


@pytest.fixture
def make_customer(db):
    def make(name, **fields):
        return Customer.objects.create(
            name=name,
            email=f"{name.lower().replace(' ', '.')}@example.com",
            tier="smb",
            employees=5,
            language="en",
            registered_at=STARTED,
            **fields,
        )

    return make


@pytest.fixture
def subscribe(catalog):
    def start(customer, plan="office-pbx", *, at=STARTED, **choices):
        choices.setdefault("employees", 5)
        return start_subscription(customer, StartRequest(plan=plan, trial=False, **choices), at=at)

    return start


# The retail deck's prefix and description of the dialled numbers used here.
RETAIL = {
    "+7916": ("79", "Russia mobile"),
    "+7903": ("79", "Russia mobile"),
    "+7495": ("7495", "Moscow local"),
}


@pytest.fixture
def calls(db):
    """``calls(customer, (dst, start, seconds, retail, carrier), …)``: rated calls."""
    cdr_file = CdrFile.objects.create(
        source="pbx", path="hand-made.csv", sha256="0" * 64, token="t", claimed_at=STARTED
    )
    counter = iter(range(1, 1_000_000))

    def add(customer, *items, reason=""):
        RatedCall.objects.bulk_create(
            RatedCall(
                source="pbx",
                cdr_id=f"c{next(counter)}",
                cdr_file=cdr_file,
                customer=customer,
                dst=dst,
                prefix=RETAIL[dst[:5]][0],
                description=RETAIL[dst[:5]][1],
                start=start,
                duration=seconds,
                billed_seconds=seconds,
                cost=Decimal(retail),
                carrier_cost=Decimal(carrier),
                margin=Decimal(retail) - Decimal(carrier),
                reason=reason,
            )
            for dst, start, seconds, retail, carrier in items
        )

    return add


@pytest.fixture
def versions(db):
    """Carrier "Transit" v1 from 1 January and v2 from 1 June 2025."""
    v1 = import_version(
        DECK_V1, carrier="Transit", effective_from=datetime(2025, 1, 1).date(), at=NOW
    )
    v2 = import_version(
        DECK_V2, carrier="Transit", effective_from=datetime(2025, 6, 1).date(), at=NOW
    )
    return v1, v2


@pytest.fixture
def traffic(make_customer, subscribe, calls):
    """Two customers' May calls (the arithmetic is in test_impact.py).

    Alpha (office-pbx): a 120 s mobile call (retail 1.90 × 2 = 3.80, carrier 0.85 × 2 =
    1.70) and a 90 s Moscow call (retail: 2 started minutes × 0.90 = 1.80; carrier
    0.25 × 1.5 = 0.375). Beta (contact-centre): a 60 s mobile call (1.90, carrier 0.85).
    """
    alpha = make_customer("Alpha Trading")
    beta = make_customer("Beta Calls")
    subscribe(alpha, "office-pbx")
    subscribe(beta, "contact-centre")
    day = NOW - timedelta(days=10)
    calls(
        alpha,
        ("+79161234567", day, 120, "3.80", "1.70"),
        ("+74951234567", day, 90, "1.80", "0.375"),
    )
    calls(beta, ("+79031234567", day, 60, "1.90", "0.85"))
    # Outside the 30-day window: only the 90-day impact sees it.
    calls(beta, ("+79031234567", NOW - timedelta(days=45), 60, "1.90", "0.85"))
    return alpha, beta


@pytest.fixture
def staff(django_user_model):
    def make(username="pricing", email="pricing@operator.example"):
        return django_user_model.objects.create_user(
            username, email, "pw-12345!", is_staff=True, is_superuser=True
        )

    return make
