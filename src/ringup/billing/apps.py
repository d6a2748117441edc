from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "ringup.billing"
    verbose_name = "Billing"
