"""The per-process price cache behind quotes: a change to the catalog is seen by the very
next request, whether this process made it or another one did."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from ringup.catalog import selectors, services
from ringup.catalog.models import NumberOffer, Option, Plan, TrafficPackage
from ringup.engine.pricing import SelectionError

pytestmark = pytest.mark.django_db

REQUEST = services.QuoteRequest(
    plan="office-pbx", employees=10, options=("crm-integration",), traffic_package="min-1000"
)


def monthly_fee_line(request=REQUEST) -> Decimal:
    _, quote = services.price(request)
    return next(line.amount for line in quote.lines if line.code == request.plan)


def test_cached_price_lists_equal_fresh_ones(catalog):
    for code in catalog:
        plan, price = selectors.priced_plan(code)
        assert plan.code == code
        assert price == selectors.plan_price(selectors.get_plan(code))
    assert selectors.priced_plan("no-such-plan") is None


def test_an_unchanged_catalog_costs_one_query_per_price(catalog, django_assert_num_queries):
    services.price(REQUEST)
    with django_assert_num_queries(1):
        services.price(REQUEST)


def test_a_price_saved_in_the_back_office_is_seen_by_the_next_quote(catalog):
    assert monthly_fee_line() == Decimal("890.00")
    plan = Plan.objects.get(code="office-pbx")
    plan.monthly_fee = Decimal("990")
    plan.save()
    assert monthly_fee_line() == Decimal("990.00")


def test_a_price_changed_by_another_process_is_seen_by_the_next_quote(catalog):
    # No signal reaches this process when another one saves: update() sends none, so
    # only the catalog fingerprint can notice.
    assert monthly_fee_line() == Decimal("890.00")
    Plan.objects.filter(code="office-pbx").update(
        monthly_fee=Decimal("1090"), updated_at=timezone.now()
    )
    assert monthly_fee_line() == Decimal("1090.00")
    Option.objects.filter(code="crm-integration").update(
        monthly_fee=Decimal("590"), updated_at=timezone.now()
    )
    _, quote = services.price(REQUEST)
    assert next(line.amount for line in quote.lines if line.code == "crm-integration") == Decimal(
        "590.00"
    )


def test_links_changed_by_another_process_are_seen(catalog):
    services.price(REQUEST)
    links = Option.plans.through.objects
    links.filter(option__code="crm-integration", plan__code="office-pbx").delete()
    with pytest.raises(SelectionError) as error:
        services.price(REQUEST)
    assert "options" in error.value.errors
    links.bulk_create(
        [links.model(option=Option.objects.get(code="crm-integration"), plan=catalog["office-pbx"])]
    )
    services.price(REQUEST)

    package = TrafficPackage.plans.through.objects
    package.filter(trafficpackage__code="min-1000", plan__code="office-pbx").delete()
    with pytest.raises(SelectionError):
        services.price(REQUEST)
    numbers = NumberOffer.plans.through.objects
    numbers.filter(numberoffer__kind="local", plan__code="office-pbx").delete()
    with pytest.raises(SelectionError):
        services.price(services.QuoteRequest(plan="office-pbx", numbers=3))


def test_a_deleted_plan_is_gone_for_the_next_quote(catalog):
    services.price(services.QuoteRequest(plan="virtual-number"))
    Plan.objects.filter(code="virtual-number").delete()
    with pytest.raises(SelectionError):
        services.price(services.QuoteRequest(plan="virtual-number"))


def test_a_save_under_a_frozen_clock_is_seen(catalog, time_machine):
    # Same updated_at before and after: the save's signal drops this process's cache.
    time_machine.move_to(dt.datetime(2025, 3, 1, 12, tzinfo=dt.UTC), tick=False)
    plan = Plan.objects.get(code="office-pbx")
    plan.save()
    assert monthly_fee_line() == Decimal("890.00")
    plan.monthly_fee = Decimal("790")
    plan.save()
    assert monthly_fee_line() == Decimal("790.00")


def test_the_quote_api_answers_with_the_new_price(catalog, client):
    def post() -> dict:
        response = client.post(
            "/api/v1/quotes",
            json.dumps({"plan": "office-pbx", "employees": 12, "period": "monthly"}),
            content_type="application/json",
        )
        assert response.status_code == 201
        return response.json()

    before = post()
    Plan.objects.filter(code="office-pbx").update(
        per_employee=Decimal("80"), updated_at=timezone.now()
    )
    after = post()
    employees = [line for line in after["lines"] if line["code"] == "employees"]
    assert employees[0]["unit_amount"] == "80.00"
    assert Decimal(after["monthly_total"]) - Decimal(before["monthly_total"]) == 12 * 5


def test_the_returned_plan_is_a_copy(catalog):
    plan, _ = selectors.priced_plan("office-pbx")
    plan.name = "Changed by a caller"
    again, _ = selectors.priced_plan("office-pbx")
    assert again.name == "Office PBX"
