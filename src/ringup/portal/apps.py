from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ringup.portal"
    verbose_name = "Customer portal"
