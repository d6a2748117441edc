from django.apps import AppConfig


class EngagementConfig(AppConfig):
    name = "ringup.marketing.engagement"
    label = "engagement"
    verbose_name = "Banners and follow-ups"
