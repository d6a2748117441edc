from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "ringup.usage"
    verbose_name = "Usage"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the trial-limits consumer)
