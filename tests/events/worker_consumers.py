"""A consumer the Celery worker under test imports (``celery worker --include``)."""

from django.contrib.auth.models import Group

from ringup.events.registry import consumer

KIND = "test.worker_ping"


@consumer("test-worker", kinds=[KIND])
def on_ping(event) -> None:
    # A write the test can see: one group per event handled.
    Group.objects.create(name=f"handled-{event.id}")
