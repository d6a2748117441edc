from django.apps import AppConfig


class MarginsConfig(AppConfig):
    name = "ringup.sales.margins"
    label = "margins"
    verbose_name = "Margins and risk"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the pricing owner's alert)
