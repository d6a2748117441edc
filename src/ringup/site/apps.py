from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "ringup.site"
    label = "public_site"
    verbose_name = "Public site"
