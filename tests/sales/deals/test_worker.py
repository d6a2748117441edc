"""An uploaded bill is analysed by a real Celery worker once the upload commits."""

import pytest
from django.db import transaction

from ringup.sales.deals.models import BillAnalysis
from ringup.sales.deals.services import bills

from ...events.conftest import needs_postgres, wait_until
from .conftest import NOW


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_analyses_the_upload_after_commit(
    start_worker,
    make_deal,
    cdr_file,
    settings,
    tmp_path,
):
    needs_postgres()
    # The worker reads the kept file from its data folder: the upload writes it there.
    settings.DATA_DIR = tmp_path / "worker"
    process = start_worker()
    deal = make_deal()
    with transaction.atomic(), cdr_file().open("rb") as handle:
        bill = bills.upload_cdrs(
            deal, handle, file_name="cdrs.csv", format="generic", country="RU", at=NOW
        )
    wait_until(
        lambda: BillAnalysis.objects.get(pk=bill.pk).status != BillAnalysis.Status.ANALYSING,
        timeout=60,
        what="the worker to analyse the bill",
        process=process,
    )
    bill.refresh_from_db()
    assert (bill.status, bill.error) == (BillAnalysis.Status.READY, "")
    assert bill.profile["profile"]["calls"] == 4  # conftest.GENERIC
