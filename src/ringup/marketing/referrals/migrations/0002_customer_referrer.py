"""Copy who referred whom onto ``customers.Customer.referrer`` for referrals recorded
before the column existed (joined or bought, never rejected)."""

from django.db import migrations
from django.db.models import OuterRef, Subquery


def copy_referrers(apps, schema_editor):
    Customer = apps.get_model("customers", "Customer")
    Referral = apps.get_model("referrals", "Referral")
    kept = Referral.objects.filter(referred=OuterRef("pk")).exclude(status="rejected")
    referred = Referral.objects.exclude(status="rejected").values("referred")
    Customer.objects.filter(referrer__isnull=True, pk__in=referred).update(
        referrer=Subquery(kept.values("referrer")[:1])
    )


class Migration(migrations.Migration):
    dependencies = [
        ("customers", "0005_customer_referrer"),
        ("referrals", "0001_initial"),
    ]

    operations = [migrations.RunPython(copy_referrers, migrations.RunPython.noop)]
