"""The prospect's bill on a deal: call records in each format and the invoice summary,
analysed by the engine and compared with our retail deck and the proposed plan.

Worked example (conftest.GENERIC, home area Moscow, retail deck usage/decks/retail.csv):

    calls 4, answered 3 (c3 has 0 s), billable 61 + 125 + 300 = 486 s = 8.10 min
    ACD = 486 / 3 = 162.0 s, ASR = 3 / 4 = 0.7500, peak concurrent calls 2 (c1, c2)
    now (cost column):  March 2.40 + 8.70 = 11.10,  April 0 + 17.50 = 17.50
    ours (retail deck): c1 7495 0.90/min in whole minutes: 2 × 0.90 = 1.80
                        c2 79 1.90/min per second: 125 × 1.90 / 60 = 3.958333
                        c4 7812 1.90/min in whole minutes: 5 × 1.90 = 9.50
                        March 5.758333 → 5.76, April 9.50
    saving: March 11.10 − 5.76 = 5.34, April 17.50 − 9.50 = 8.00, average 6.67
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from ringup.catalog.services import QuoteRequest, price
from ringup.sales.deals.models import BillAnalysis
from ringup.sales.deals.selectors import bill_in_progress, bill_view, latest_bill
from ringup.sales.deals.services import bills
from ringup.sales.deals.services.deals import DealRefused, set_offer

from .conftest import ASTERISK, FREESWITCH, NOW

pytestmark = pytest.mark.django_db


def upload(deal, path, **kwargs):
    kwargs.setdefault("format", "generic")
    kwargs.setdefault("country", "RU")
    with open(path, "rb") as handle:
        bill = bills.upload_cdrs(deal, handle, file_name=path.name, at=NOW, **kwargs)
    assert bill.status == BillAnalysis.Status.ANALYSING
    # What the worker does once the upload is committed.
    assert bills.analyse_pending(at=NOW) == 1
    bill.refresh_from_db()
    return bill


def test_generic_upload_is_kept_and_analysed(make_deal, cdr_file, data_dir):
    deal = make_deal()
    bill = upload(
        deal, cdr_file(), home_area="7495", tariff=bills.CurrentTariff(cost_column="cost")
    )

    assert (data_dir / "deals" / bill.stored_as).read_text().startswith("id,account")
    assert len(bill.sha256) == 64
    profile = bill.profile["profile"]
    assert (profile["calls"], profile["answered"], profile["minutes"]) == (4, 3, "8.10")
    assert (profile["acd_seconds"], profile["asr"], profile["peak_concurrent_calls"]) == (
        "162.0",
        "0.7500",
        2,
    )
    assert profile["by_category"]["local"]["minutes"] == "1.02"
    assert profile["by_category"]["mobile"]["minutes"] == "2.08"
    assert profile["by_category"]["long_distance"]["calls"] == 2
    assert (profile["peak_month"], profile["lowest_month"], profile["busiest_hour"]) == (
        "2025-04",
        "2025-03",
        9,
    )
    assert bill.profile["current"]["2025-03"]["total"] == "11.10"
    assert bill.profile["ours"]["2025-03"]["total"] == "5.76"
    assert bill.profile["ours"]["2025-04"]["total"] == "9.50"
    saving = bill.profile["saving"]
    assert (saving["average"], saving["by_month"]["2025-03"]["saving"]) == ("6.67", "5.34")
    assert bill.profile["traffic"] == {
        "calls": 4,
        "answered": 3,
        "seconds": 486,
        "short_calls": 1,
        "peak_concurrent_calls": 2,
        "active_hours": 3,
    }


def test_the_offer_adds_the_plan_fee_to_our_side(make_deal, cdr_file):
    deal = make_deal()
    bill = upload(
        deal,
        cdr_file(),
        home_area="7495",
        tariff=bills.CurrentTariff(cost_column="cost", line_rental=Decimal(3000)),
    )
    set_offer(deal, plan="office-pbx", employees=10)
    bills.refresh_bills(deal, at=NOW)
    bills.analyse_pending(at=NOW)
    bill.refresh_from_db()

    fee = price(QuoteRequest(plan="office-pbx", employees=10))[1].monthly_total
    assert bill.profile["plan"] == "office-pbx"
    assert Decimal(bill.profile["plan_monthly_fee"]) == fee
    # March: now 3000 + 11.10 = 3011.10; ours fee + 5.76.
    assert Decimal(bill.profile["current"]["2025-03"]["total"]) == Decimal("3011.10")
    assert Decimal(bill.profile["ours"]["2025-03"]["total"]) == fee + Decimal("5.76")
    month = bill.profile["saving"]["by_month"]["2025-03"]
    assert Decimal(month["saving"]) == Decimal("3011.10") - fee - Decimal("5.76")


def test_without_a_current_cost_there_is_no_saving(make_deal, cdr_file):
    bill = upload(make_deal(), cdr_file(), home_area="7495")
    assert bill.profile["current"] is None and bill.profile["saving"] is None
    assert bill.profile["ours"]["2025-04"]["total"] == "9.50"
    view = bill_view(bill, charts_wanted=False)
    assert [row["current"] for row in view.comparison] == [None, None]


def test_current_rates_price_their_calls_when_the_file_has_no_cost(make_deal, cdr_file):
    """Their rates: 1.20 local, 3.00 long distance, 2.40 mobile a minute (exact minutes):
    March 61/60 × 1.20 + 125/60 × 2.40 = 1.22 + 5.00 = 6.22; April 300/60 × 3.00 = 15.00."""
    rates = {"local": Decimal("1.20"), "long_distance": Decimal(3), "mobile": Decimal("2.40")}
    bill = upload(
        make_deal(),
        cdr_file(),
        home_area="7495",
        tariff=bills.CurrentTariff(rates={bills.bills.Category(k): v for k, v in rates.items()}),
    )
    assert bill.profile["current"]["2025-03"]["usage"] == "6.22"
    assert bill.profile["current"]["2025-04"]["usage"] == "15.00"


def test_asterisk_master_csv(make_deal, cdr_file):
    bill = upload(
        make_deal(), cdr_file(ASTERISK, "Master.csv"), format="asterisk", home_area="7495"
    )
    profile = bill.profile["profile"]
    # billsec, not duration: 61 + 125 = 186 s over 2 answered of 3 attempts.
    assert (profile["calls"], profile["answered"], profile["minutes"]) == (3, 2, "3.10")
    assert (profile["acd_seconds"], profile["asr"]) == ("93.0", "0.6667")
    assert bill.cdr_format == "asterisk"


def test_freeswitch_cdr_csv(make_deal, cdr_file):
    bill = upload(
        make_deal(), cdr_file(FREESWITCH, "Master.csv"), format="freeswitch", home_area="7495"
    )
    profile = bill.profile["profile"]
    assert (profile["calls"], profile["answered"], profile["peak_concurrent_calls"]) == (2, 2, 2)
    assert profile["by_category"]["mobile"]["calls"] == 1


@pytest.mark.parametrize(
    "text, fmt, field",
    [
        ("id,account,dst\nc1,a,74951234567\n", "generic", "file"),
        ("a,b\n1,2\n", "asterisk", "file"),
        ("hello", "fax", "format"),
    ],
)
def test_bad_files_are_refused_and_not_kept(make_deal, cdr_file, data_dir, text, fmt, field):
    with pytest.raises(DealRefused) as refused:
        upload(make_deal(), cdr_file(text), format=fmt)
    assert field in refused.value.errors
    assert not BillAnalysis.objects.exists()
    kept = data_dir / "deals"
    assert not kept.exists() or list(kept.iterdir()) == []


def test_a_cost_column_the_file_lacks_is_refused(make_deal, cdr_file):
    with pytest.raises(DealRefused) as refused:
        upload(make_deal(), cdr_file(), tariff=bills.CurrentTariff(cost_column="price"))
    assert refused.value.errors


SUMMARY = [
    # March: 1000 local + 200 mobile minutes, call charges 2900, line rental 4000.
    {
        "month": "2025-03",
        "minutes": {"local": 1000, "mobile": 200},
        "usage_charges": "2900",
        "line_rental": "4000",
    },
    {
        "month": "2025-04",
        "minutes": {"local": 800, "mobile": 100},
        "usage_charges": "2200",
        "line_rental": "4000",
    },
]


def test_invoice_summary_is_priced_at_our_rates_per_category(make_deal):
    """Our rates from the deck: local 7495 0.90, mobile 79 1.90 a minute.
    March ours: 1000 × 0.90 + 200 × 1.90 = 900 + 380 = 1280; now 2900 + 4000 = 6900.
    April ours: 800 × 0.90 + 100 × 1.90 = 720 + 190 = 910; now 2200 + 4000 = 6200.
    Saving (no plan yet): 5620 and 5290, average 5455.00."""
    deal = make_deal()
    bill = bills.enter_summary(deal, SUMMARY, at=NOW)
    assert bill.kind == "summary"
    assert Decimal(bill.profile["our_rates"]["local"]) == Decimal("0.90")
    assert bill.profile["ours"]["2025-03"]["total"] == "1280.00"
    assert bill.profile["current"]["2025-03"]["total"] == "6900.00"
    assert bill.profile["saving"]["average"] == "5455.00"
    view = bill_view(latest_bill(deal), charts_wanted=False)
    assert [m["month"] for m in view.months] == ["2025-03", "2025-04"]
    assert view.profile["peak_month"] == "2025-03"
    assert [c["code"] for c in view.categories] == ["local", "mobile"]


def test_an_empty_summary_is_refused(make_deal):
    with pytest.raises(DealRefused) as refused:
        bills.enter_summary(make_deal(), [], at=NOW)
    assert list(refused.value.errors) == ["months"]


def test_dialer_traffic_raises_risk_flags_with_figures(make_deal, cdr_file):
    """150 calls of 3 s from one line within an hour: ACD 3 s (threshold 20 s) and every
    call under 10 seconds (threshold 60 %)."""
    rows = ["id,account,src,dst,start,duration"]
    rows += [
        f"d{i},acc,74951230001,7916{i:07d},2025-03-03T10:{i // 3:02d}:{i % 3 * 20:02d},3"
        for i in range(150)
    ]
    deal = make_deal()
    upload(deal, cdr_file("\n".join(rows) + "\n"), home_area="7495")
    from ringup.sales.deals.selectors import risk_flags

    flags = {flag.code: flag for flag in risk_flags(deal)}
    assert "dialer_short_acd" in flags and "dialer_short_calls" in flags
    assert "3.0 s over 150 calls" in flags["dialer_short_acd"].text


def _uploaded(deal, path):
    """An upload as the desk makes it, before any worker has run."""
    with open(path, "rb") as handle:
        return bills.upload_cdrs(
            deal, handle, file_name=path.name, format="generic", country="RU", at=NOW
        )


def test_the_upload_answers_at_once_and_a_worker_analyses_it(make_deal, cdr_file, data_dir):
    deal = make_deal()
    bill = _uploaded(deal, cdr_file())
    # Nothing analysed yet: the desk shows the bill as in progress, and no figures.
    assert (bill.status, bill.analysed_at) == (BillAnalysis.Status.ANALYSING, None)
    assert latest_bill(deal) is None and bill_in_progress(deal) == bill

    assert bills.analyse_pending(at=NOW) == 1
    bill.refresh_from_db()
    assert (bill.status, bill.analysed_at, bill.claim) == (BillAnalysis.Status.READY, NOW, "")
    assert bill.profile["profile"]["calls"] == 4
    assert latest_bill(deal) == bill and bill_in_progress(deal) is None
    assert bills.analyse_pending(at=NOW) == 0  # each bill is analysed once


def test_a_failed_analysis_keeps_its_reason(make_deal, cdr_file, data_dir):
    deal = make_deal()
    bill = _uploaded(deal, cdr_file())
    (data_dir / "deals" / bill.stored_as).unlink()  # the kept file is gone before the worker

    bills.analyse_pending(at=NOW)
    bill.refresh_from_db()
    assert bill.status == BillAnalysis.Status.FAILED
    assert bill.error.startswith("file: CDR file") and "does not exist" in bill.error
    assert latest_bill(deal) is None and bill_in_progress(deal) == bill


def test_a_dead_workers_claim_is_taken_over_after_the_lease(make_deal, cdr_file, settings):
    settings.RINGUP_BILL_ANALYSIS_LEASE = 600
    bill = _uploaded(make_deal(), cdr_file())
    BillAnalysis.objects.filter(pk=bill.pk).update(claim="dead-worker", claimed_at=NOW)

    assert bills.analyse_next(at=NOW + timedelta(seconds=600)) is None  # still its claim
    taken = bills.analyse_next(at=NOW + timedelta(seconds=601))
    assert (taken.pk, taken.status) == (bill.pk, BillAnalysis.Status.READY)


def test_an_analysis_overtaken_by_a_new_offer_is_not_kept(make_deal, cdr_file, monkeypatch):
    deal = make_deal()
    bill = _uploaded(deal, cdr_file())
    analyse = bills._analyse_stored

    def offer_changes_meanwhile(row):
        result = analyse(row)
        set_offer(deal, plan="office-pbx", employees=10)
        bills.refresh_bills(deal, at=NOW)  # sends the bill back: this claim is lost
        return result

    monkeypatch.setattr(bills, "_analyse_stored", offer_changes_meanwhile)
    bills.analyse_next(at=NOW)
    bill.refresh_from_db()
    assert (bill.status, bill.analysed_at) == (BillAnalysis.Status.ANALYSING, None)

    monkeypatch.setattr(bills, "_analyse_stored", analyse)
    assert bills.analyse_pending(at=NOW) == 1
    bill.refresh_from_db()
    # The kept analysis is the one made for the new offer.
    assert (bill.status, bill.profile["plan"]) == (BillAnalysis.Status.READY, "office-pbx")
