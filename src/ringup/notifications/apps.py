from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "ringup.notifications"
    verbose_name = "E-mail and SMS"
