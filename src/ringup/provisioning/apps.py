from django.apps import AppConfig


class ProvisioningConfig(AppConfig):
    name = "ringup.provisioning"
    verbose_name = "Provisioning"
