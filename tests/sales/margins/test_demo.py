"""The demo's margin monitor: two versions, findings on the dialer traffic, flags; loaded
twice, nothing doubles."""

from datetime import timedelta

from ringup.events.models import Event
from ringup.sales.margins.models import CarrierDeckVersion, MarginAlert, RiskFlag
from ringup.usage.models import RatedCall

from .conftest import NOW


def test_load_margins_twice(make_customer, subscribe, settings, tmp_path):
    from ringup.demo.margins import load_margins

    settings.DATA_DIR = tmp_path
    centre = [make_customer(f"Centre {n}", account=f"acc-c{n}") for n in range(3)]
    for customer in centre:
        subscribe(customer, "contact-centre")
    until = (NOW + timedelta(days=1)).date()

    first = load_margins(until=until, at=NOW, seed=1)
    again = load_margins(until=until, at=NOW, seed=1)

    assert CarrierDeckVersion.objects.count() == first.versions == again.versions == 2
    assert first.dialers == 2
    # 2 × 600 dialer calls, imported once; to Russian mobiles, whose carrier rate the
    # newer version raises (0.85 → 1.45 against retail 1.90: 23.7 % < 30 %).
    assert RatedCall.objects.count() == 1200
    assert first.below_target == 1
    assert Event.objects.filter(kind="margin.below_target").count() == 1
    assert MarginAlert.objects.count() == 1
    flagged = set(RiskFlag.objects.values_list("customer__name", flat=True))
    assert flagged == {"Centre 0", "Centre 1"}
    assert again.flags == first.flags == RiskFlag.objects.count()
