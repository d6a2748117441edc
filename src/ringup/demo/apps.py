from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "ringup.demo"
    verbose_name = "Demo operator"
