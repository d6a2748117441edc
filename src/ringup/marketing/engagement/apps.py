from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "ringup.marketing.engagement"
    label = "engagement"
    verbose_name = "Banners and follow-ups"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the follow-up rules)
