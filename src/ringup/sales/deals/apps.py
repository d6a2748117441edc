from django.apps import AppConfig


class DealsConfig(AppConfig):
    name = "ringup.sales.deals"
    label = "deals"
    verbose_name = "Deals"
