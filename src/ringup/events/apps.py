from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "ringup.events"
    verbose_name = "Events"
