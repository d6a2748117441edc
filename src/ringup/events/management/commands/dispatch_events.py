"""``ringup dispatch-events``: run the due event deliveries now and print JSON counts."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...services import dispatch


class Command(BaseCommand):
    help = "Hand due events to their consumers (what the worker does) and print the counts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--limit", type=positive_int, default=10_000, help="at most this many deliveries"
        )
        parser.add_argument(
            "--consumer", action="append", help="only deliveries to this consumer (repeatable)"
        )

    def handle(self, *args, limit, consumer, **_):
        counts = dispatch(at=timezone.now(), limit=limit, consumers=consumer)
        self.stdout.write(json.dumps(counts))


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise ValueError(text)
    return value
