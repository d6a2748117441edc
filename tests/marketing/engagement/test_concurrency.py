"""Counting under load on PostgreSQL: page views at the same instant lose no impression
and write one counter row per banner and day; two workers handling the same rule make one
task."""

import threading

import pytest
from django.db import connection, connections

from ringup.marketing.engagement.models import Banner, BannerDay, FollowUpTask
from ringup.marketing.engagement.services.banners import show_banners
from ringup.marketing.engagement.services.tasks import RuleTask, task_from_rule

from .conftest import NOW

THREADS = 12


def needs_postgres():
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (DATABASE_URL): concurrent connections")


def run_together(work):
    """Run ``work()`` in THREADS threads released at once, each on its own connection."""
    barrier, failures = threading.Barrier(THREADS), []

    def body():
        try:
            barrier.wait(timeout=30)
            work()
        except Exception as error:  # reported below, with the test's failure
            failures.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=body) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not failures, failures


@pytest.mark.django_db(transaction=True)
def test_simultaneous_page_views_count_every_impression(customer):
    needs_postgres()
    Banner.objects.create(title="A", text="x", link="help", target="ivr")
    Banner.objects.create(title="B", text="x", link="help", target="ivr")
    run_together(lambda: show_banners(customer, at=NOW))
    rows = sorted(BannerDay.objects.values_list("banner__title", "impressions"))
    assert rows == [("A", THREADS), ("B", THREADS)]


@pytest.mark.django_db(transaction=True)
def test_the_same_rule_task_at_once_is_made_once(customer):
    needs_postgres()
    wanted = RuleTask(
        customer_id=customer.pk,
        key=f"calls_dropped:{customer.pk}:2025-06",
        reason=FollowUpTask.Reason.CALLS_DROPPED,
        title="Calls dropped sharply: check on them",
        due_on=NOW.date(),
    )
    made = []
    run_together(lambda: made.append(task_from_rule(wanted, at=NOW)))
    assert FollowUpTask.objects.filter(rule_key=wanted.key).count() == 1
    assert sum(task is not None for task in made) == 1
