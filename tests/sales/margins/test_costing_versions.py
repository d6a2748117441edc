"""Imported calls are costed at the carrier deck version in force on their day.

The conftest's carrier "Transit": v1 from 1 January 2025 (79 at 0.85, no 7812, so
St Petersburg falls to 7 at 0.95), v2 from 1 June 2025 (79 at 1.60, 7812 at 0.60). The
configured deck (src/ringup/usage/decks/carrier.csv: 79 at 0.85, 7812 at 0.60) costs what
came before v1. Retail: 79 at 1.90/min per second, 7812 at 1.90 per started minute.
Days are the operator's (Europe/Moscow): 23:30 on 31 May is still v1, 00:30 on 1 June
(21:30 UTC the day before) is v2.

    c0 2024-12-31 12:00  7812  60 s  before v1: configured 0.60   retail 1.90  margin 1.30
    c1 2025-05-02 10:00  7812  60 s  v1, prefix 7: 0.95           retail 1.90  margin 0.95
    c2 2025-05-31 23:30  79    90 s  v1: 0.85 × 1.5 = 1.275       retail 2.85  margin 1.575
    c3 2025-06-01 00:30  79    90 s  v2: 1.60 × 1.5 = 2.40        retail 2.85  margin 0.45
    c4 2025-06-02 10:00  7812  60 s  v2: 0.60                     retail 1.90  margin 1.30
"""

from decimal import Decimal as D

import pytest
from django.test import override_settings

from ringup.usage.models import RatedCall
from ringup.usage.services import import_cdr_file

CDRS = """id,account,src,dst,start,duration
c0,acc-1,74950000001,+78121234567,2024-12-31 12:00:00,60
c1,acc-1,74950000001,+78121234567,2025-05-02 10:00:00,60
c2,acc-1,74950000001,+79161234567,2025-05-31 23:30:00,90
c3,acc-1,74950000001,+79161234567,2025-06-01 00:30:00,90
c4,acc-1,74950000001,+78121234567,2025-06-02 10:00:00,60
"""


@pytest.fixture
def cdr_file(tmp_path, make_customer):
    make_customer("Alpha", account="acc-1")
    path = tmp_path / "pbx.csv"
    path.write_text(CDRS)
    return path


def costs() -> dict[str, tuple]:
    rows = RatedCall.objects.values_list("cdr_id", "cost", "carrier_cost", "margin")
    return {cdr_id: (cost, carrier, margin) for cdr_id, cost, carrier, margin in rows}


def test_each_call_is_costed_at_the_version_of_its_day(versions, cdr_file):
    assert import_cdr_file(cdr_file, source="pbx").outcome == "imported"
    assert costs() == {
        "c0": (D("1.90"), D("0.60"), D("1.30")),
        "c1": (D("1.90"), D("0.95"), D("0.95")),
        "c2": (D("2.85"), D("1.275"), D("1.575")),
        "c3": (D("2.85"), D("2.40"), D("0.45")),
        "c4": (D("1.90"), D("0.60"), D("1.30")),
    }


@override_settings(RINGUP_COSTING_CARRIER="Another carrier")
def test_a_named_costing_carrier_without_versions_leaves_the_configured_deck(versions, cdr_file):
    import_cdr_file(cdr_file, source="pbx")
    # Every call at the configured deck: 7812 at 0.60, 79 at 0.85 × 1.5 = 1.275.
    carrier = costs()
    assert [carrier[cdr][1] for cdr in ("c0", "c1", "c2", "c3", "c4")] == [
        D("0.60"),
        D("0.60"),
        D("1.275"),
        D("1.275"),
        D("0.60"),
    ]


def test_without_versions_the_configured_deck_costs_every_call(db, cdr_file):
    import_cdr_file(cdr_file, source="pbx")
    assert costs()["c3"] == (D("2.85"), D("1.275"), D("1.575"))
