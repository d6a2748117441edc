"""``ringup import-cdrs``: idempotent, every row kept (unrated ones with a reason), files
claimed once, all-or-nothing per file, fan-out over Celery (eager here)."""

import io
import json
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

import pytest
from django.core.management import CommandError, call_command
from django.db import connection, connections
from django.test import override_settings

from ringup.config.celery import app as celery_app
from ringup.customers.models import Customer
from ringup.usage import services
from ringup.usage.models import CdrFile, RatedCall
from ringup.usage.services import ClaimLost, claim_file, file_sha256, import_cdr_file

CDRS = (
    "id,account,src,dst,start,duration\n"
    "c1,acc-1,74950000001,84951234567,2025-03-03T09:00:00,61\n"  # Moscow local: 2 min
    "c2,acc-1,74950000001,+79161234567,2025-03-03 10:00:00,30\n"  # Russia mobile: 30 s
    "c2,acc-1,74950000001,+79161234567,2025-03-03 10:00:00,30\n"  # the same call again
    "c3,acc-9,74950000009,+77012345678,2025-03-03T10:00:00+03:00,120\n"  # nobody's account
    "c4,acc-1,74950000001,102,2025-03-03T11:00:00,15\n"  # an extension: bad number
)


def import_cdrs(*args: str) -> dict:
    stdout = io.StringIO()
    call_command("import_cdrs", *args, stdout=stdout)
    (line,) = stdout.getvalue().splitlines()
    return json.loads(line)


@pytest.fixture
def customer(db):
    return Customer.objects.create(
        name="ООО «Ромашка»",
        email="office@romashka.example",
        tier="smb",
        account="acc-1",
        registered_at=datetime(2025, 1, 10, 9, tzinfo=UTC),
    )


@pytest.fixture
def cdrs(tmp_path):
    path = tmp_path / "pbx1-2025-03-03.csv"
    path.write_text(CDRS)
    return path


def test_import_rates_attaches_and_reports(customer, cdrs):
    summary = import_cdrs(str(cdrs), "--country", "RU")
    # 1.80 (2 min × 0.90) + 0.95 (30 s × 1.90/60); c3 is rated but nobody's, so not summed.
    assert summary == {
        "files": 1,
        "outcomes": {"imported": 1},
        "calls": 5,
        "imported": 4,
        "duplicates_skipped": 1,
        "unrated": {"bad_number": 1, "unknown_account": 1},
        "inbound": 0,
        "customers_matched": 1,
        "total_cost": "2.750000",
        "margin": "2.070833",  # 1.80 − 0.25×61/60 + 0.95 − 0.85×30/60
        "errors": [],
    }
    c1 = RatedCall.objects.get(cdr_id="c1")
    assert (c1.customer, c1.description, c1.billed_seconds, c1.cost, c1.reason) == (
        customer,
        "Moscow local",
        120,
        D("1.800000"),
        "",
    )
    # Naive times are the operator's (Moscow, UTC+3); an explicit offset is kept.
    assert c1.start == datetime(2025, 3, 3, 6, tzinfo=UTC)
    c3 = RatedCall.objects.get(cdr_id="c3")
    assert (c3.customer, c3.reason, c3.description) == (
        None,
        "unknown_account",
        "International: Kazakhstan",
    )
    assert c3.start == datetime(2025, 3, 3, 7, tzinfo=UTC)


def test_reimporting_adds_nothing(customer, cdrs, tmp_path):
    import_cdrs(str(cdrs))
    again = import_cdrs(str(cdrs))
    assert again["outcomes"] == {"already_imported": 1}
    assert again["imported"] == 0
    # The same calls in another file (a day's file re-sent with one more call): only the
    # new call is added, because ids are unique per source.
    longer = tmp_path / "resent.csv"
    longer.write_text(CDRS + "c5,acc-1,1,+79161234567,2025-03-03T12:00:00,10\n")
    summary = import_cdrs(str(longer))
    assert (summary["calls"], summary["imported"], summary["duplicates_skipped"]) == (6, 1, 5)
    assert RatedCall.objects.count() == 5
    # Another source may use the same ids.
    other = import_cdrs(str(cdrs), "--source", "pbx2")
    assert other["imported"] == 4
    assert CdrFile.objects.filter(status="done").count() == 3


def test_missing_file_exits_2_with_one_line(db, tmp_path):
    with pytest.raises(CommandError) as raised:
        import_cdrs(str(tmp_path / "nope.csv"))
    assert raised.value.returncode == 2
    assert "\n" not in str(raised.value)


def test_a_file_is_claimed_once(customer, cdrs):
    sha = file_sha256(cdrs)
    _, outcome = claim_file(cdrs, "pbx1", sha)
    assert outcome == "claimed"
    second, outcome = claim_file(cdrs, "pbx1", sha)
    assert (second, outcome) == (None, "claimed_elsewhere")
    # The loser imports nothing: the command reports the live claim.
    summary = import_cdrs(str(cdrs), "--source", "pbx1")
    assert summary["outcomes"] == {"claimed_elsewhere": 1}
    assert not RatedCall.objects.exists()


def test_a_stale_claim_is_taken_over_and_the_old_worker_cannot_finish(customer, cdrs):
    sha = file_sha256(cdrs)
    dead, _ = claim_file(cdrs, "pbx1", sha)
    CdrFile.objects.filter(pk=dead.pk).update(
        claimed_at=dead.claimed_at - timedelta(hours=2)
    )  # its worker died long ago
    result = import_cdr_file(cdrs, source="pbx1")
    assert result.outcome == "imported"
    assert RatedCall.objects.count() == 4
    # Were the dead worker to come back, its commit would be refused (token changed).
    with pytest.raises(ClaimLost):
        services._finish(dead, services.FileImport(str(cdrs), "pbx1", "claimed"), 5)


def test_an_error_mid_file_leaves_nothing(customer, cdrs, monkeypatch):
    monkeypatch.setattr(services, "INSERT_BATCH", 2)
    real = RatedCall.objects.bulk_create
    batches = []

    def failing(objs, **kwargs):
        batches.append(len(objs))
        if len(batches) == 2:
            raise RuntimeError("worker killed")
        return real(objs, **kwargs)

    monkeypatch.setattr(RatedCall.objects, "bulk_create", failing)
    summary = import_cdrs(str(cdrs))
    assert summary["outcomes"] == {"failed": 1}
    assert summary["errors"] == [f"{cdrs}: worker killed"]
    assert not RatedCall.objects.exists()  # the first batch was rolled back too
    assert CdrFile.objects.get().status == "failed"
    monkeypatch.setattr(RatedCall.objects, "bulk_create", real)
    # A failed file may be imported again, completely.
    assert import_cdrs(str(cdrs))["imported"] == 4


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_one_wins(customer, cdrs):
    barrier = threading.Barrier(4)
    results = []

    def worker():
        try:
            barrier.wait()
            results.append(import_cdr_file(cdrs, source="pbx1").outcome)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results.count("imported") == 1
    assert RatedCall.objects.count() == 4


def test_a_directory_fans_out_one_task_per_file(customer, tmp_path):
    folder = tmp_path / "2025-03-03"
    folder.mkdir()
    (folder / "pbx1.csv").write_text(CDRS)
    (folder / "pbx2.csv").write_text(CDRS.replace("\nc", "\nx"))
    eager = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        with override_settings(CELERY_TASK_ALWAYS_EAGER=True):
            summary = import_cdrs(str(folder))
            again = import_cdrs(str(folder / "*.csv"))
    finally:
        celery_app.conf.task_always_eager = eager
    assert (summary["files"], summary["imported"], summary["outcomes"]) == (
        2,
        8,
        {"imported": 2},
    )
    assert again["outcomes"] == {"already_imported": 2}
    assert RatedCall.objects.count() == 8


def test_the_back_office_lists_files_and_calls(admin_client, customer, cdrs):
    import_cdrs(str(cdrs))
    for url in ("/admin/usage/cdrfile/", "/admin/usage/ratedcall/"):
        response = admin_client.get(url)
        assert response.status_code == 200
    assert b"unknown_account" in admin_client.get("/admin/usage/ratedcall/").content


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a worker thread needs PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_files_fan_out_over_a_real_worker(customer, tmp_path):
    from celery.contrib.testing.worker import start_worker

    folder = tmp_path / "day"
    folder.mkdir()
    for switch in ("pbx1", "pbx2", "pbx3"):
        (folder / f"{switch}.csv").write_text(CDRS.replace("\nc", f"\n{switch}-"))
    # Earlier tests' commits queued dispatch tasks in the suite's broker folder: the worker
    # would run them all first.
    celery_app.control.purge()
    with start_worker(celery_app, pool="threads", concurrency=2, perform_ping_check=False):
        summary = import_cdrs(str(folder), "--wait")
    assert (summary["files"], summary["outcomes"], summary["imported"]) == (
        3,
        {"imported": 3},
        12,
    )
    assert RatedCall.objects.values("cdr_file").distinct().count() == 3


def test_progress_is_reported_up_to_the_whole_file(customer, cdrs, monkeypatch):
    monkeypatch.setattr(services, "INSERT_BATCH", 2)
    seen = []
    import_cdr_file(cdrs, source="pbx1", progress=lambda done, total: seen.append((done, total)))
    # The repeated row counts as done at once; then batches of two of the four others.
    assert seen == [(3, 5), (5, 5)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL's statistics")
@pytest.mark.parametrize("threshold, analysed", [(1, 1), (1_000, 0)])
def test_a_large_import_refreshes_the_statistics(customer, cdrs, monkeypatch, threshold, analysed):
    """The file holds a handful of calls: with the threshold at 1 the import ANALYZEs the
    rated calls once (the bill run that follows plans with them counted); at 1,000 not."""
    monkeypatch.setattr(services, "ANALYZE_AFTER", threshold)

    def analyses() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_stat_clear_snapshot()")
            cursor.execute(
                "SELECT analyze_count FROM pg_stat_user_tables WHERE relname = %s",
                [RatedCall._meta.db_table],
            )
            return cursor.fetchone()[0]

    before = analyses()
    import_cdr_file(cdrs, source="pbx1")
    assert analyses() - before == analysed
