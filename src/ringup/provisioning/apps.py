"""Provisioning: accounts on the PBX platform kept in step with subscription events."""

from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "ringup.provisioning"
    verbose_name = "Provisioning"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the consumer)
