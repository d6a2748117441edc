"""The demo pipeline: a deal in every stage, one worked through with a bill, a TCO and a
share link; loading it again adds nothing."""

from datetime import UTC, date, datetime

import pytest

from ringup.demo.deals import generate_cdrs, load_deals
from ringup.sales.deals.models import Deal
from ringup.sales.deals.selectors import deal_context

pytestmark = pytest.mark.django_db
AT = datetime(2025, 12, 10, 9, tzinfo=UTC)


def test_generated_calls_are_the_same_for_the_same_seed(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    assert generate_cdrs(first, until=date(2025, 12, 1), months=1, calls_per_day=20, seed=5) == (
        generate_cdrs(second, until=date(2025, 12, 1), months=1, calls_per_day=20, seed=5)
    )
    assert first.read_bytes() == second.read_bytes()
    assert first.read_text().splitlines()[0] == "id,account,src,dst,start,duration,cost"


def test_demo_pipeline(catalog, admin_user):
    demo = load_deals(at=AT)
    assert set(Deal.objects.values_list("stage", flat=True)) == {
        "lead",
        "qualified",
        "proposal",
        "trial",
        "won",
        "lost",
    }
    assert demo.calls > 20_000
    worked = Deal.objects.get(customer__name="Mercury Insurance")
    context = deal_context(worked, charts_wanted=False)
    assert context["bill"].saving["average"].startswith(tuple("123456789"))  # a positive saving
    assert context["tco"]["result"].total_saving > 0
    assert context["deployment"]["recommendation"] == "cloud"
    assert worked.links.count() == 1
    assert Deal.objects.get(stage="won").subscription is not None
    assert load_deals(at=AT).deals == Deal.objects.count() == 6
