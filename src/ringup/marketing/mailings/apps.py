"""Mailings: one-off, scheduled, recurring and triggered e-mail to segments, with consent,
tracking and control groups."""

from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "ringup.marketing.mailings"
    label = "mailings"
    verbose_name = "Mailings"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the consumer)
