from django.apps import AppConfig


class AnalyticsConfig(AppConfig):
    name = "ringup.analytics"
    label = "analytics"
    verbose_name = "Revenue analytics"
