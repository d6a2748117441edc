"""``ringup demo-data``: loads the demo operator once, repeatably, and refuses bad input."""

import re
from datetime import UTC, datetime
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from ringup.billing.models import Subscription, SubscriptionChange, SubscriptionOption
from ringup.catalog.models import Plan, RelatedProduct
from ringup.cli import main
from ringup.customers.models import Contact, Customer

SMALL = {"customers": 60, "months": 6, "seed": 3, "until": "2025-03-01"}


def run(**options) -> str:
    out = StringIO()
    call_command("demo_data", stdout=out, **options)
    return out.getvalue()


# References are compared by natural key: primary keys differ between runs on PostgreSQL.
NATURAL_KEYS = {
    "customer": "customer__email",
    "subscription": "subscription__customer__email",
    "plan": "plan__code",
    "from_plan": "from_plan__code",
    "to_plan": "to_plan__code",
    "option": "option__code",
}


def snapshot() -> dict[str, list]:
    """Every generated row, in insertion order."""
    return {
        model.__name__: list(
            model.objects.order_by("pk").values_list(
                *(
                    NATURAL_KEYS.get(field.name, field.name)
                    for field in model._meta.concrete_fields
                    if not field.primary_key
                )
            )
        )
        for model in (Customer, Contact, Subscription, SubscriptionOption, SubscriptionChange)
    }


def clear_history():
    Subscription.objects.all().delete()
    Customer.objects.all().delete()


@pytest.mark.django_db
def test_loads_the_catalog_a_history_and_a_back_office_login():
    output = run(**SMALL)

    assert set(Plan.objects.values_list("code", flat=True)) == {
        "virtual-number",
        "office-pbx",
        "contact-centre",
    }
    # The history's firms; the sales pipeline adds its prospects (one deal won) beside them.
    history = Customer.objects.filter(deals__isnull=True)
    assert history.count() == 60
    # One subscription each, and a second for those who cancelled and came back later.
    win_backs = int(re.search(r"(\d+) win backs", output).group(1))
    assert Subscription.objects.filter(customer__in=history).count() == 60 + win_backs
    returned = history.annotate(n=Count("subscriptions")).filter(n=2)
    assert returned.count() == win_backs
    assert Contact.objects.filter(customer__in=history).count() >= 60
    started = SubscriptionChange.objects.filter(kind="started", subscription__customer__in=history)
    assert started.count() == 60 + win_backs
    window = (datetime(2024, 8, 31, 21, tzinfo=UTC), datetime(2025, 2, 28, 21, tzinfo=UTC))
    for at in SubscriptionChange.objects.values_list("at", flat=True):
        assert window[0] <= at < window[1]
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser
    assert admin.email == "admin@example.com"
    assert admin.check_password("ringup-demo")
    assert "/admin/" in output
    assert "ringup-demo" in output


@pytest.mark.django_db
def test_the_same_seed_writes_the_same_rows():
    # Without invoices: issued invoices cannot be deleted, so the history could not be cleared.
    unbilled = {**SMALL, "invoices": False}
    run(**unbilled)
    first = snapshot()
    clear_history()
    run(**unbilled)
    assert snapshot() == first
    clear_history()
    run(**{**unbilled, "seed": 4})
    assert snapshot() != first


@pytest.mark.django_db
def test_if_empty_leaves_an_existing_database_untouched():
    run(**SMALL)
    before = snapshot()
    catalog = list(Plan.objects.values_list("code", "updated_at"))
    related = list(RelatedProduct.objects.values_list("pk", flat=True))

    output = run(**{**SMALL, "seed": 9}, if_empty=True)

    assert "already exist" in output
    assert snapshot() == before
    assert list(Plan.objects.values_list("code", "updated_at")) == catalog
    assert list(RelatedProduct.objects.values_list("pk", flat=True)) == related


@pytest.mark.django_db
def test_if_empty_loads_an_empty_database_and_the_admin_is_kept():
    user = get_user_model().objects.create_superuser("admin", "ops@example.com", "secret-1")
    output = run(customers=5, months=1, if_empty=True)

    history = Customer.objects.filter(deals__isnull=True)
    assert history.count() == 5
    newest = history.latest("registered_at").registered_at
    assert timezone.localtime(newest).date() < timezone.localdate().replace(day=1)
    user.refresh_from_db()
    assert user.check_password("secret-1")
    assert "password unchanged" in output


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--customers", "0"], "--customers must be at least 1"),
        (["--months", "0"], "--months must be between 1 and 120"),
        (["--months", "121"], "--months must be between 1 and 120"),
        (["--until", "2025-13-01"], "--until must be a date YYYY-MM-DD"),
        (["--seed", "-1"], "--seed must not be negative"),
    ],
)
def test_bad_arguments_exit_with_code_2_and_one_line(argv, message, capsys):
    with pytest.raises(CommandError, match=message) as error:
        call_command("demo_data", *argv)
    assert error.value.returncode == 2

    with pytest.raises(SystemExit) as exit_:
        main(["demo-data", *argv])
    assert exit_.value.code == 2
    stderr = capsys.readouterr().err
    assert stderr.count("\n") == 1
    assert message in stderr
