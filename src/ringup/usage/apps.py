from django.apps import AppConfig


class UsageConfig(AppConfig):
    name = "ringup.usage"
    verbose_name = "Usage"
