from django.apps import AppConfig


class MarginsConfig(AppConfig):
    name = "ringup.sales.margins"
    label = "margins"
    verbose_name = "Margins and risk"

    def ready(self):
        from ringup.usage.services import use_carrier_versions

        from . import consumers  # noqa: F401 (registers the pricing owner's alert)
        from .selectors import costing_versions

        # Imported calls are costed at the version in force on their day.
        use_carrier_versions(costing_versions)
