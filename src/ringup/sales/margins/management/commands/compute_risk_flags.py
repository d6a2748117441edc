"""``ringup compute-risk-flags``: recompute every customer's risk flags now (``risk``);
the nightly beat task does the same. Prints a JSON summary."""

import json

from django.core.management.base import BaseCommand
from django.utils import timezone

from ...risk import compute_flags


class Command(BaseCommand):
    help = "Recompute the risk flags of every customer."

    def handle(self, *args, **options):
        computed = compute_flags(at=timezone.now())
        self.stdout.write(json.dumps({"customers": computed.customers, "flags": computed.flags}))
