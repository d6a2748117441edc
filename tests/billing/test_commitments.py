"""Minimum call commitments: a period's own calls below the commitment are topped up on
its invoice, the commitment prorated like the included minutes; the risk selector reads
the spend back from the invoices."""

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D
from fractions import Fraction
from io import StringIO

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from ringup.billing.models import Invoice, InvoiceLine, Subscription, UsageCharge
from ringup.billing.selectors.commitments import commitment_spend
from ringup.billing.services.invoicing import bill, upcoming_invoice
from ringup.billing.services.subscriptions import (
    ChangeRefused,
    cancel_subscription,
    set_minimum_usage,
)
from ringup.billing.views import render_invoice
from ringup.customers.models import Customer
from ringup.engine.invoicing import (
    Config,
    History,
    LineKind,
    VatRule,
    commitment_lines,
    held_months,
    taxed,
)
from ringup.engine.periods import BillingPeriod, Interval
from ringup.engine.rating import Numbering
from ringup.usage.services import import_cdr_file

from .conftest import APRIL_1, MARCH_1, MAY_1

pytestmark = pytest.mark.django_db

# Moscow is UTC+3 all year.
APRIL_11 = APRIL_1 + timedelta(days=10)
MARCH_1_2026 = datetime(2026, 2, 28, 21, tzinfo=UTC)
COMMITMENT = D("20000.00")


def shortfall(invoice: Invoice) -> list[tuple]:
    return list(
        invoice.lines.filter(kind=InvoiceLine.Kind.COMMITMENT).values_list(
            "description", "quantity", "unit_amount", "amount", "vat_amount", "total"
        )
    )


def calls(subscription, at, amount, key, destination="Russia mobile"):
    """A usage row of ``amount`` (rated, no included minutes apply to these rows)."""
    return UsageCharge.objects.create(
        subscription=subscription,
        at=at,
        destination=destination,
        seconds=600,
        amount=D(amount),
        currency="RUB",
        source_key=key,
    )


# The engine's arithmetic ---------------------------------------------------------------


def test_calls_below_the_commitment_are_topped_up_to_it():
    # 20,000.00 − 12,345.67 = 7,654.33
    (line,) = commitment_lines(COMMITMENT, Fraction(1), D("12345.67"), "RUB")
    assert line.kind is LineKind.COMMITMENT
    assert line.code == "commitment"
    assert line.description == (
        "Minimum call commitment 20,000.00 a month: shortfall (calls 12,345.67)"
    )
    assert (line.quantity, line.unit_amount, line.amount) == (D(1), D("7654.33"), D("7654.33"))


def test_vat_is_added_on_top_or_included_like_on_the_call_lines():
    lines = commitment_lines(COMMITMENT, Fraction(1), D("12345.67"), "RUB")
    # Added: 7,654.33 × 20 / 100 = 1,530.866 → 1,530.87; total 7,654.33 + 1,530.87.
    (added,) = taxed(lines, VatRule(D(20), included=False), "RUB")
    assert (added.amount, added.vat_amount, added.total) == (
        D("7654.33"),
        D("1530.87"),
        D("9185.20"),
    )
    # Included: 7,654.33 × 20 / 120 = 1,275.7216… → 1,275.72; the total is the amount.
    (included,) = taxed(lines, VatRule(D(20), included=True), "RUB")
    assert (included.amount, included.vat_amount, included.total) == (
        D("7654.33"),
        D("1275.72"),
        D("7654.33"),
    )


@pytest.mark.parametrize("usage", ["20000.00", "20000.01", "31000.00"])
def test_calls_at_or_above_the_commitment_add_no_line(usage):
    assert commitment_lines(COMMITMENT, Fraction(1), D(usage), "RUB") == []


def test_a_period_held_in_part_owes_its_share_and_says_so():
    # 10 of 30 days: 20,000 × 10 / 30 = 6,666.666… → 6,666.67 due; calls 1,234.56.
    (line,) = commitment_lines(COMMITMENT, Fraction(10, 30), D("1234.56"), "RUB")
    assert line.amount == D("5432.11")  # 6,666.67 − 1,234.56
    assert line.description == (
        "Minimum call commitment 20,000.00 a month, 6,666.67 for this period: "
        "shortfall (calls 1,234.56)"
    )


def test_the_share_of_months_is_weighted_like_the_included_minutes():
    office = Config("office-pbx", 10)
    april = BillingPeriod(1, APRIL_1, MAY_1)  # 30 days
    assert held_months(History(office), april, Interval.MONTHLY) == 1
    assert held_months(History(office, ended_at=APRIL_11), april, Interval.MONTHLY) == Fraction(
        1, 3
    )
    year = BillingPeriod(0, MARCH_1, MARCH_1_2026)
    assert held_months(History(office), year, Interval.ANNUAL) == 12
    # Ended before the period began: nothing held, nothing due.
    ended = History(office, ended_at=APRIL_1)
    assert held_months(ended, april, Interval.MONTHLY) == 0
    assert commitment_lines(COMMITMENT, Fraction(0), D(0), "RUB") == []


money = st.decimals(min_value=0, max_value=D("9999999999.99"), places=2)


@given(
    monthly=money,
    usage=money,
    held=st.integers(min_value=0, max_value=1_000_000),
    days=st.sampled_from([28, 29, 30, 31, 365, 366]),
)
def test_the_shortfall_brings_calls_up_to_what_is_due_and_never_below_zero(
    monthly, usage, held, days
):
    # A month or a year, held for ``held`` millionths of its seconds (DST-short or not).
    seconds = days * 86_400 - 3600 * (held % 2)
    months = 12 if days > 31 else 1
    share = Fraction(seconds * held // 1_000_000 * months, seconds)
    due = (monthly * share.numerator / share.denominator).quantize(D("0.01"), "ROUND_HALF_UP")
    lines = commitment_lines(monthly, share, usage, "RUB")
    topped = sum((line.amount for line in lines), D(0))
    assert usage + topped >= due
    assert topped >= 0
    if usage >= due:
        assert lines == []
    else:
        (line,) = lines
        assert line.amount > 0
        assert usage + line.amount == due
        assert line.amount.as_tuple().exponent == -2
        assert line.unit_amount == line.amount


# On invoices ---------------------------------------------------------------------------


def test_march_calls_below_the_commitment_are_topped_up_on_the_invoice(subscribe):
    """Office PBX paid from 1 March, committed to 20,000.00 a month; March's calls come to
    8,000.00 + 4,345.67 = 12,345.67 (a call of April is April's): shortfall 7,654.33, VAT
    included (the default): 7,654.33 × 20 / 120 = 1,275.72."""
    subscription = subscribe()
    set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "8000.00", "a")
    calls(subscription, MARCH_1 + timedelta(days=9), "4345.67", "b", "Moscow local")
    calls(subscription, APRIL_1 + timedelta(hours=1), "99.00", "c")
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    assert shortfall(march) == [
        (
            "Minimum call commitment 20,000.00 a month: shortfall (calls 12,345.67)",
            D("1.00"),
            D("7654.33"),
            D("7654.33"),
            D("1275.72"),
            D("7654.33"),
        )
    ]
    kinds = list(march.lines.order_by("position").values_list("kind", flat=True))
    assert kinds[-3:] == ["usage", "usage", "commitment"]  # after the calls it tops up
    usage = sum(
        march.lines.filter(kind=InvoiceLine.Kind.USAGE).values_list("amount", flat=True), D(0)
    )
    assert usage + shortfall(march)[0][3] == COMMITMENT
    assert march.total == sum(march.lines.values_list("total", flat=True))
    # The invoice document prints it with the calls, as a sum rather than minutes.
    document = render_invoice(march, for_print=False)
    row = document[document.index('<tr class="kind-commitment">') :]
    row = row[: row.index("</tr>")]
    assert document.index("Calls by destination") < document.index(row)
    assert "shortfall (calls 12,345.67)" in row
    assert '<td class="num">1</td>' in row  # one sum, not minutes


@override_settings(BILLING={**settings.BILLING, "VAT_INCLUDED": False})
def test_vat_is_added_to_the_shortfall_where_prices_exclude_it(subscribe):
    subscription = subscribe()
    set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "12345.67", "a")
    bill(until=APRIL_1, at=APRIL_1)
    (line,) = shortfall(subscription.invoices.get())
    assert line[3:] == (D("7654.33"), D("1530.87"), D("9185.20"))  # 7,654.33 × 1.2


def test_calls_above_the_commitment_add_no_line(subscribe):
    subscription = subscribe()
    set_minimum_usage(subscription, D("10000.00"), at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "10000.00", "a")
    bill(until=APRIL_1, at=APRIL_1)
    assert shortfall(subscription.invoices.get()) == []


def test_without_a_commitment_there_is_no_line(subscribe):
    subscription = subscribe()
    bill(until=APRIL_1, at=APRIL_1)
    assert shortfall(subscription.invoices.get()) == []


def test_a_last_period_cut_short_owes_its_share_of_the_commitment(subscribe):
    """Cancelled immediately at midnight of 11 April: 10 of April's 30 days held, so
    20,000 × 10 / 30 = 6,666.67 is due; calls of 1,000.00 leave 5,666.67."""
    subscription = subscribe()
    set_minimum_usage(subscription, COMMITMENT, at=APRIL_1)
    calls(subscription, APRIL_1 + timedelta(days=2), "1000.00", "a")
    cancel_subscription(subscription, at=APRIL_11, immediately=True)
    bill(until=MAY_1, at=MAY_1)
    april = subscription.invoices.get(period_start=APRIL_1)
    assert april.issued_at == APRIL_11
    assert shortfall(april)[0][0] == (
        "Minimum call commitment 20,000.00 a month, 6,666.67 for this period: "
        "shortfall (calls 1,000.00)"
    )
    assert shortfall(april)[0][3] == D("5666.67")


def test_an_annual_period_owes_twelve_months_of_commitment(subscribe):
    """Usage is billed once a year on an annual subscription, so a year's calls meet
    12 × 20,000 = 240,000.00: calls of 150,000.00 leave 90,000.00."""
    subscription = subscribe(period="annual")
    set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=100), "150000.00", "a")
    bill(until=MARCH_1_2026, at=MARCH_1_2026)
    (line,) = shortfall(subscription.invoices.get())
    assert line[0] == (
        "Minimum call commitment 20,000.00 a month, 240,000.00 for this period: "
        "shortfall (calls 150,000.00)"
    )
    assert line[3] == D("90000.00")


# Times are Moscow's; the subscription is paid from 1 March, with 1,000 minutes included.
CDRS = (
    "id,account,src,dst,start,duration\n"
    "m1,acc-romashka,74951110000,84951234567,2025-03-02T10:00:00,39960\n"  # 666 min local
    "k1,acc-romashka,74951110000,+77012345678,2025-03-03T10:00:00,600\n"  # 10 min Kazakhstan
    "r1,acc-romashka,74951110000,89161234567,2025-03-05T10:00:00,24000\n"  # 400 min mobile
    "a1,acc-romashka,74951110000,89161234567,2025-04-02T10:00:00,60\n"  # April, included
)
LATE = "l1,acc-romashka,74951110000,89161234567,2025-03-20T10:00:00,300\n"  # 5 min, late


def import_calls(tmp_path, name, text):
    path = tmp_path / f"{name}.csv"
    path.write_text(text)
    import_cdr_file(path, source="pbx1", numbering=Numbering(country="RU"))


def test_the_commitment_meets_the_calls_after_included_minutes_and_not_late_ones(
    subscribe, customer, tmp_path
):
    """Commitment 500.00. March (retail deck: Kazakhstan 9.00/min, Russia mobile 1.90/min):
    666 local minutes included, Kazakhstan 10 × 9.00 = 90.00, mobile 400 min of which 334
    included: 66 × 1.90 = 125.40; calls 215.40, shortfall 284.60.
    April: its 1-minute call is included (0.00); a 5-minute March call imported after
    March's invoice is billed on April's at 5 × 1.90 = 9.50 but is March's, so April's
    calls are 0.00 and the whole 500.00 is short."""
    customer.account = "acc-romashka"
    customer.save()
    import_calls(tmp_path, "month", CDRS)
    subscription = subscribe(traffic_package="min-1000")
    set_minimum_usage(subscription, D("500"), at=MARCH_1)
    bill(until=APRIL_1, at=APRIL_1)
    march = subscription.invoices.get()
    assert shortfall(march)[0][0].endswith("shortfall (calls 215.40)")
    assert shortfall(march)[0][3] == D("284.60")

    import_calls(tmp_path, "late", "id,account,src,dst,start,duration\n" + LATE)
    bill(until=MAY_1, at=MAY_1)
    april = subscription.invoices.get(period_start=APRIL_1)
    assert april.lines.filter(
        description__startswith="Calls from earlier periods", amount=D("9.50")
    ).exists()
    assert shortfall(april)[0][0] == (
        "Minimum call commitment 500.00 a month: shortfall (calls 0.00)"
    )
    assert shortfall(april)[0][3] == D("500.00")


def test_late_usage_rows_do_not_count_towards_the_period(subscribe):
    """A usage row of March arriving after March's invoice joins April's line of its
    destination (the rule for usage rows), but April's own calls are 100.00 only."""
    subscription = subscribe()
    set_minimum_usage(subscription, D("1000"), at=MARCH_1)
    bill(until=APRIL_1, at=APRIL_1)
    calls(subscription, MARCH_1 + timedelta(days=20), "300.00", "late")
    calls(subscription, APRIL_1 + timedelta(days=2), "100.00", "own")
    bill(until=MAY_1, at=MAY_1)
    april = subscription.invoices.get(period_start=APRIL_1)
    usage = april.lines.filter(kind=InvoiceLine.Kind.USAGE).values_list("amount", flat=True)
    assert list(usage) == [D("400.00")]
    assert shortfall(april)[0][0].endswith("shortfall (calls 100.00)")
    assert shortfall(april)[0][3] == D("900.00")


def bill_command(*argv) -> dict:
    out = StringIO()
    call_command("bill", *argv, stdout=out)
    return json.loads(out.getvalue())


def test_ringup_bill_writes_the_line_once(subscribe):
    subscription = subscribe()
    set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "12345.67", "a")
    dry = bill_command("--until", "2025-03-31", "--json", "--dry-run")
    real = bill_command("--until", "2025-03-31", "--json")
    assert dry == {**real, "dry_run": True}
    assert real["invoices_created"] == 1
    march = Invoice.objects.get(number=real["first_number"])
    assert [line[3] for line in shortfall(march)] == [D("7654.33")]
    lines = InvoiceLine.objects.count()
    again = bill_command("--until", "2025-03-31", "--json")
    assert (again["invoices_created"], again["lines_created"]) == (0, 0)
    assert InvoiceLine.objects.count() == lines
    assert len(shortfall(march)) == 1


def test_the_upcoming_invoice_shows_the_shortfall_of_the_calls_so_far(subscribe):
    subscription = subscribe()
    set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "12345.67", "a")
    mid_march = MARCH_1 + timedelta(days=15)
    draft = upcoming_invoice(subscription, at=mid_march)
    preview = [line for line in draft.lines if line.kind is LineKind.COMMITMENT]
    assert [(line.description, line.amount) for line in preview] == [
        ("Minimum call commitment 20,000.00 a month: shortfall (calls 12,345.67)", D("7654.33"))
    ]
    bill(until=APRIL_1, at=APRIL_1)
    (written,) = shortfall(subscription.invoices.get())
    assert (written[0], written[3], written[5]) == (
        preview[0].description,
        preview[0].amount,
        preview[0].total,
    )


def test_the_commitment_is_refused_below_zero_and_once_ended(subscribe):
    subscription = subscribe()
    with pytest.raises(ChangeRefused) as refused:
        set_minimum_usage(subscription, D("-1"), at=MARCH_1)
    assert list(refused.value.errors) == ["minimum_usage"]
    with pytest.raises(ChangeRefused) as refused:
        set_minimum_usage(subscription, D("1.001"), at=MARCH_1)
    assert list(refused.value.errors) == ["minimum_usage"]
    cancel_subscription(subscription, at=APRIL_11, immediately=True)
    with pytest.raises(ChangeRefused) as refused:
        set_minimum_usage(subscription, COMMITMENT, at=APRIL_11)
    assert list(refused.value.errors) == ["subscription"]
    assert Subscription.objects.get(pk=subscription.pk).minimum_usage is None


# The risk selector ---------------------------------------------------------------------


def test_commitment_spend_reads_each_months_own_calls_from_the_invoices(subscribe, customer):
    """Romashka commits to 1,000.00: March's calls 400.00 (shortfall 600.00), April's
    1,250.00 (none); May's invoice ends after the window. A second customer without a
    commitment, and a third whose committed subscription has ended, are not in the
    answer."""
    subscription = subscribe()
    set_minimum_usage(subscription, D("1000"), at=MARCH_1)
    calls(subscription, MARCH_1 + timedelta(days=3), "400.00", "m")
    other = Customer.objects.create(
        name="ООО «Лютик»", email="office@lutik.example", registered_at=MARCH_1
    )
    subscribe(who=other)
    gone = Customer.objects.create(
        name="ООО «Ушли»", email="office@gone.example", registered_at=MARCH_1
    )
    ended = subscribe(who=gone)
    set_minimum_usage(ended, D("1000"), at=MARCH_1)
    cancel_subscription(ended, at=APRIL_11, immediately=True)
    bill(until=APRIL_1, at=APRIL_1)
    calls(subscription, APRIL_1 + timedelta(days=2), "1250.00", "a")
    bill(until=MAY_1, at=MAY_1)
    # A May invoice outside the window does not count.
    bill(until=MAY_1 + timedelta(days=31), at=MAY_1 + timedelta(days=31))

    spend = commitment_spend(MARCH_1, MAY_1 + timedelta(days=1))
    assert spend == {customer.pk: (D("1000.00"), {"2025-03": D("400.00"), "2025-04": D("1250.00")})}
    march = subscription.invoices.get(period_start=MARCH_1)
    assert shortfall(march)[0][3] == D("600.00")
    # By the end of the period: March's invoice ends at midnight of 1 April.
    assert commitment_spend(APRIL_1, MAY_1) == {customer.pk: (D("1000.00"), {"2025-03": D(400)})}
    later = MAY_1 + timedelta(days=40)
    assert commitment_spend(later, later + timedelta(days=1)) == {customer.pk: (D(1000), {})}


def test_commitment_spend_takes_a_month_without_calls_as_zero_and_skips_late_calls(
    subscribe, customer, tmp_path
):
    customer.account = "acc-romashka"
    customer.save()
    subscription = subscribe()
    set_minimum_usage(subscription, D("500"), at=MARCH_1)
    bill(until=APRIL_1, at=APRIL_1)
    import_calls(tmp_path, "late", "id,account,src,dst,start,duration\n" + LATE)
    bill(until=MAY_1, at=MAY_1)
    assert commitment_spend(MARCH_1, MAY_1 + timedelta(days=1)) == {
        customer.pk: (D("500.00"), {"2025-03": D("0.00"), "2025-04": D("0.00")})
    }


def test_the_risk_flag_counts_only_the_months_held_to_the_commitment(subscribe, customer):
    """March's calls of 100.00 were billed before the commitment of 1,000.00 was signed
    on 1 April (no shortfall line): not a month below it. April's 400.00 (shortfall
    600.00) and May's 300.00 (700.00) are: 2 months ≥ the threshold of 2, shortfall
    600 + 700 = 1,300.00."""
    from ringup.sales.margins.models import RiskFlag
    from ringup.sales.margins.risk import compute_flags

    june_1 = MAY_1 + timedelta(days=31)
    subscription = subscribe()
    calls(subscription, MARCH_1 + timedelta(days=3), "100.00", "m")
    bill(until=APRIL_1, at=APRIL_1)
    set_minimum_usage(subscription, D("1000"), at=APRIL_1)
    calls(subscription, APRIL_1 + timedelta(days=3), "400.00", "a")
    bill(until=MAY_1, at=MAY_1)
    calls(subscription, MAY_1 + timedelta(days=3), "300.00", "y")
    bill(until=june_1, at=june_1)
    assert commitment_spend(MARCH_1, june_1 + timedelta(days=1)) == {
        customer.pk: (D("1000.00"), {"2025-04": D("400.00"), "2025-05": D("300.00")})
    }

    compute_flags(at=june_1 + timedelta(days=1))
    flag = RiskFlag.objects.get(customer=customer, code="commitment_not_met")
    assert (flag.figures["count"], flag.figures["total"], flag.figures["shortfall"]) == (
        2,
        2,
        "1300.00",
    )
    assert flag.explanation.startswith(
        "Spend was below the minimum commitment of 1000.00 in 2 of 2 months (2025-04, 2025-05)"
    )


# API and back office -------------------------------------------------------------------


def post(client, url, body):
    return client.post(url, body, content_type="application/json")


def test_the_api_reads_and_sets_the_commitment(staff_client, subscribe, time_machine):
    time_machine.move_to(MARCH_1 + timedelta(days=5), tick=False)
    subscription = subscribe()
    url = f"/api/v1/subscriptions/{subscription.pk}"
    assert staff_client.get(url).json()["minimum_usage"] is None
    answer = post(staff_client, f"{url}/minimum-usage", {"minimum_usage": "20000.00"})
    assert answer.status_code == 200, answer.content
    assert answer.json() == staff_client.get(url).json()
    assert answer.json()["minimum_usage"] == "20000.00"
    removed = post(staff_client, f"{url}/minimum-usage", {"minimum_usage": None})
    assert removed.json()["minimum_usage"] is None
    assert Subscription.objects.get(pk=subscription.pk).minimum_usage is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"minimum_usage": "-1.00"}, "minimum_usage"),
        ({"minimum_usage": "12.345"}, "minimum_usage"),
        ({"minimum_usage": "10000000000.00"}, "minimum_usage"),
        ({"minimum_usage": "lots"}, "minimum_usage"),
        ({}, "minimum_usage"),
        ({"minimum_usage": "1.00", "colour": "red"}, "colour"),
    ],
)
def test_a_bad_commitment_is_a_422_naming_the_field(staff_client, subscribe, body, field):
    subscription = subscribe()
    answer = post(staff_client, f"/api/v1/subscriptions/{subscription.pk}/minimum-usage", body)
    assert answer.status_code == 422, answer.content
    assert [error["loc"][-1] for error in answer.json()["detail"]] == [field]
    assert Subscription.objects.get(pk=subscription.pk).minimum_usage is None


def test_the_api_refuses_an_ended_subscription_and_unknown_ids(staff_client, subscribe):
    subscription = subscribe()
    cancel_subscription(subscription, at=APRIL_11, immediately=True)
    answer = post(
        staff_client, f"/api/v1/subscriptions/{subscription.pk}/minimum-usage", {"minimum_usage": 1}
    )
    assert answer.status_code == 422
    assert [error["loc"][-1] for error in answer.json()["detail"]] == ["subscription"]
    unknown = post(
        staff_client,
        f"/api/v1/subscriptions/{subscription.pk + 99}/minimum-usage",
        {"minimum_usage": "1.00"},
    )
    assert unknown.status_code == 404


def management_forms(subscription) -> dict:
    """The inline formsets' management data, as the change form posts it back."""
    data = {}
    for prefix, count in (
        ("items", subscription.items.count()),
        ("changes", subscription.changes.count()),
        ("discounts", subscription.discounts.count()),
    ):
        data |= {
            f"{prefix}-TOTAL_FORMS": str(count),
            f"{prefix}-INITIAL_FORMS": str(count),
            f"{prefix}-MIN_NUM_FORMS": "0",
            f"{prefix}-MAX_NUM_FORMS": "1000",
        }
    return data


def test_the_back_office_edits_the_commitment_and_nothing_else(subscribe, admin_client):
    subscription = subscribe()
    change = reverse("admin:billing_subscription_change", args=[subscription.pk])
    page = admin_client.get(change)
    assert page.status_code == 200
    assert b'name="minimum_usage"' in page.content
    assert b'name="employees"' not in page.content
    body = {**management_forms(subscription), "minimum_usage": "-5", "employees": "99"}
    refused = admin_client.post(change, body)
    assert refused.status_code == 200  # the form again, with the error
    assert Subscription.objects.get(pk=subscription.pk).minimum_usage is None
    saved = admin_client.post(change, {**body, "minimum_usage": "15000.00"})
    assert saved.status_code == 302, saved.content[:2000]
    stored = Subscription.objects.get(pk=subscription.pk)
    assert (stored.minimum_usage, stored.employees) == (D("15000.00"), 10)


def test_the_commitments_cost_the_bill_run_no_query_per_subscription(subscribe, customer):
    def committed(count):
        for n in range(count):
            subscription = subscribe()
            set_minimum_usage(subscription, COMMITMENT, at=MARCH_1)
            calls(subscription, MARCH_1 + timedelta(days=3), "100.00", f"{count}-{n}")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            report = bill(until=APRIL_1, at=APRIL_1, dry_run=True)
        assert report.invoices_created == Subscription.objects.count()
        return len(captured)

    committed(2)
    two = queries()
    committed(5)
    assert queries() == two
