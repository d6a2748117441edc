from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "ringup.catalog"
    verbose_name = "Catalog"
