"""The stored-score conditions (churn_risk, clv) over customers.CustomerScore, evaluated at
AT = 1 June 2025 12:00 UTC."""

from decimal import Decimal

import pytest

from ringup.customers.models import CustomerScore
from ringup.marketing.segments.conditions import ConditionError, describe, validate
from ringup.marketing.segments.selectors import count, members, sample

from .conftest import AT, Shop

pytestmark = pytest.mark.django_db


def names(conditions):
    return sorted(members(conditions, at=AT).values_list("name", flat=True))


def leaf(field, op, value):
    return {"field": field, "op": op, "value": value}


@pytest.fixture
def scored(shop):
    """Low (risk 0.05, CLV 9,000.00), Risky (0.34, 48,200.00), Edge (exactly 0.30 and
    40,000.00) and Unscored (no row)."""
    for name, risk, clv in [
        ("Low", "0.05", "9000.00"),
        ("Risky", "0.34", "48200.00"),
        ("Edge", "0.30", "40000.00"),
    ]:
        CustomerScore.objects.create(
            customer=shop.customer(name),
            churn_risk=Decimal(risk),
            clv=Decimal(clv),
            currency="RUB",
            basis="test",
            computed_at=AT,
        )
    shop.customer("Unscored")


def test_churn_risk_bounds_are_inclusive(scored):
    """≥ 0.30 → Edge (0.30 itself) and Risky (0.34); ≤ 0.30 → Edge and Low (0.05)."""
    assert names(leaf("churn_risk", "gte", "0.30")) == ["Edge", "Risky"]
    assert names(leaf("churn_risk", "lte", "0.3")) == ["Edge", "Low"]


def test_unscored_customer_matches_neither_direction_but_not_does(scored):
    """Unscored is in neither "at least 0" nor "at most 1": an unknown risk is not low.
    NOT (churn_risk ≥ 0.30) is everyone else, Unscored included."""
    assert "Unscored" not in names(leaf("churn_risk", "gte", 0))
    assert "Unscored" not in names(leaf("churn_risk", "lte", 1))
    assert names({"not": leaf("churn_risk", "gte", "0.30")}) == ["Low", "Unscored"]


def test_clv_and_the_high_value_at_risk_lever(scored):
    """churn risk ≥ 0.30 AND CLV ≥ 40,000.00 → Edge and Risky; CLV ≤ 10,000 → Low."""
    at_risk = {"all": [leaf("churn_risk", "gte", "0.30"), leaf("clv", "gte", "40000.00")]}
    assert names(at_risk) == ["Edge", "Risky"]
    assert names(leaf("clv", "lte", 10000)) == ["Low"]
    assert describe(at_risk) == (
        "Churn risk next month at least 30 % AND Customer lifetime value at least 40000.00"
    )


def test_scores_join_the_other_conditions_in_one_query(scored, django_assert_num_queries):
    conditions = {
        "all": [
            leaf("tier", "in", ["smb"]),
            leaf("churn_risk", "gte", 0.3),
            {"not": leaf("clv", "lte", "10000")},
            leaf("lacks_option", "in", ["call-recording"]),
        ]
    }
    with django_assert_num_queries(1):
        assert count(conditions, at=AT) == 2
    with django_assert_num_queries(1):
        assert len(sample(conditions, at=AT)) == 2


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("churn_risk", "1.5", "from 0 to 1"),
        ("churn_risk", "-0.1", "from 0 to 1"),
        ("churn_risk", "0.12345", "at most 4 decimals"),
        ("churn_risk", True, "probability"),
        ("churn_risk", "high", "probability"),
        ("clv", 40000.5, "decimal string"),
        ("clv", "-1", "non-negative"),
        ("clv", "1.234", "at most 2 decimals"),
    ],
)
def test_bad_values_name_the_path(field, value, words):
    with pytest.raises(ConditionError) as caught:
        validate({"all": [leaf(field, "gte", value)]})
    assert words in caught.value.errors["conditions.all.0.value"]


def test_only_at_least_and_at_most():
    with pytest.raises(ConditionError) as caught:
        validate(leaf("clv", "gt", "1"))
    assert caught.value.errors == {"conditions.op": "clv takes gte, lte"}


@pytest.mark.browser
def test_builder_edits_a_churn_risk_row(live_server, live_catalog, page, django_user_model):
    """In the condition builder: pick "Churn risk next month", type 0.3 → the live count
    says 1 (Risky, 0.34; Low is 0.05)."""
    from playwright.sync_api import expect

    from .test_builder_browser import logged_in

    shop = Shop()
    for name, risk in [("Low", "0.05"), ("Risky", "0.34")]:
        CustomerScore.objects.create(
            customer=shop.customer(name),
            churn_risk=Decimal(risk),
            clv=Decimal("1000.00"),
            currency="RUB",
            basis="test",
            computed_at=AT,
        )
    manager = django_user_model.objects.create_user(
        "manager", "manager@example.com", "pw-12345!", is_staff=True, is_superuser=True
    )
    logged_in(page, live_server, manager)
    page.goto(f"{live_server.url}/admin/segments/segment/add/")
    page.get_by_role("button", name="+ condition").click()
    builder = page.locator("#segment-builder")
    builder.locator("select.segment-field").select_option("churn_risk")
    figure = builder.get_by_label("probability")
    expect(figure).to_have_value("0.30")
    figure.fill("0.3")
    figure.dispatch_event("change")
    expect(page.locator("#segment-live")).to_have_text(
        "1 customer matches now: Churn risk next month at least 30 %"
    )
