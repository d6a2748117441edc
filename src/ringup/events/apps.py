from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "ringup.events"
    verbose_name = "Events"

    def ready(self):
        from django.db.backends.signals import connection_created

        from ringup.sql import read_timestamps_fast

        # Here because this is the first of Ringup's apps to load; it concerns them all.
        connection_created.connect(read_timestamps_fast, dispatch_uid="ringup.sql.timestamps")
