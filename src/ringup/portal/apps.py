from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "ringup.portal"
    verbose_name = "Customer portal"

    def ready(self):
        from . import consumers  # noqa: F401  (registers the e-mail consumer)
