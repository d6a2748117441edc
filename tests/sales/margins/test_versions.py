"""Carrier deck versions: import, validation naming the line and column, the diff."""

from datetime import date

import pytest

from ringup.sales.margins import costing, selectors
from ringup.sales.margins.models import CarrierDeckVersion
from ringup.sales.margins.services import VersionRefused, import_version

from .conftest import DECK_V1, NOW


def test_a_valid_deck_is_stored_with_every_row(db):
    version = import_version(DECK_V1, carrier="Transit", effective_from=date(2025, 1, 1), at=NOW)
    rates = {r.prefix: r for r in version.rates.all()}
    assert sorted(rates) == ["7", "7495", "7499", "79"]
    assert str(rates["79"].rate) == "0.850000"
    assert (rates["79"].first_increment, rates["79"].increment) == (1, 1)
    assert rates["79"].description == "Russia mobile"
    # Read back as the rating engine's deck: the same prefixes, exact rates.
    assert selectors.deck_of(version).entry("7495").rate == 0.25


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"prefix,rate,connect_fee,first_increment,increment\n7,abc,0,1,1\n", "line 2: rate 'abc'"),
        (
            b"prefix,rate,connect_fee,first_increment,increment\n7,1,0,1,1\n+79,1,0,1,0\n",
            "line 3: prefix '+79'",
        ),
        (b"prefix,rate,connect_fee,first_increment\n7,1,0,1\n", "lacks the column(s) increment"),
        (b"prefix,rate,connect_fee,first_increment,increment\n", "has no prefixes"),
    ],
)
def test_a_bad_deck_names_the_line_and_column_and_stores_nothing(db, content, message):
    with pytest.raises(VersionRefused) as refused:
        import_version(content, carrier="Transit", effective_from=date(2025, 1, 1), at=NOW)
    assert message in refused.value.errors["file"]
    assert not CarrierDeckVersion.objects.exists()


def test_one_version_per_carrier_and_day(db):
    import_version(DECK_V1, carrier="Transit", effective_from=date(2025, 1, 1), at=NOW)
    with pytest.raises(VersionRefused) as refused:
        import_version(DECK_V1, carrier="Transit", effective_from=date(2025, 1, 1), at=NOW)
    assert "already has a version" in refused.value.errors["effective_from"]
    import_version(DECK_V1, carrier="Other", effective_from=date(2025, 1, 1), at=NOW)
    with pytest.raises(VersionRefused) as refused:
        import_version(DECK_V1, carrier="  ", effective_from=date(2025, 1, 2), at=NOW)
    assert "carrier" in refused.value.errors


def test_the_diff_names_added_removed_raised_and_lowered_prefixes(versions):
    v1, v2 = versions
    assert selectors.previous_version(v2) == v1
    assert selectors.previous_version(v1) is None
    diff = costing.deck_diff(selectors.deck_of(v1), selectors.deck_of(v2))
    changes = dict(diff.select("prefix", "change").iter_rows())
    assert changes == {
        "7": "lowered",
        "7495": "unchanged",
        "7499": "removed",
        "7812": "added",
        "79": "raised",
    }
    percent = dict(diff.select("prefix", "percent").iter_rows())
    # (1.60 − 0.85) / 0.85 = +88.2 %; (0.90 − 0.95) / 0.95 = −5.3 %
    assert round(percent["79"], 1) == 88.2
    assert round(percent["7"], 1) == -5.3
    assert percent["7812"] is None
