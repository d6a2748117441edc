"""Record which invoice billed each rated call already invoiced.

Before ``usage.RatedCall.billed_invoice_id`` existed, an invoice billed the rated calls of
its customer whose start fell in its period, on the customer's first subscription only.
Those calls are marked with that invoice here, so the next invoice does not take them
again as calls of earlier periods.
"""

from django.db import migrations
from django.db.models import Min


def mark(apps, schema_editor):
    Invoice = apps.get_model("billing", "Invoice")
    Subscription = apps.get_model("billing", "Subscription")
    RatedCall = apps.get_model("usage", "RatedCall")
    first = dict(
        Subscription.objects.values("customer_id")
        .annotate(first=Min("pk"))
        .values_list("customer_id", "first")
    )
    invoices = Invoice.objects.filter(reason="period", status="finalised").values_list(
        "pk", "customer_id", "subscription_id", "period_start", "period_end"
    )
    for pk, customer, subscription, start, end in invoices.iterator():
        if first.get(customer) != subscription:
            continue
        RatedCall.objects.filter(
            customer_id=customer,
            reason="",
            billed_seconds__gt=0,
            start__gte=start,
            start__lt=end,
            billed_invoice_id__isnull=True,
        ).update(billed_invoice_id=pk)


class Migration(migrations.Migration):
    dependencies = [
        ("billing", "0003_immutability_triggers"),
        ("usage", "0002_ratedcall_billed_invoice"),
    ]

    operations = [migrations.RunPython(mark, migrations.RunPython.noop)]
