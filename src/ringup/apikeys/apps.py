from django.apps import AppConfig


class ApiKeysConfig(AppConfig):
    name = "ringup.apikeys"
    verbose_name = "API keys"
