from django.apps import AppConfig


class MarginsConfig(AppConfig):
    name = "ringup.sales.margins"
    label = "margins"
    verbose_name = "Margins and risk"
