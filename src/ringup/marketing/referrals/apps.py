from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "ringup.marketing.referrals"
    label = "referrals"
    verbose_name = "Referrals"

    def ready(self):
        from . import consumers  # noqa: F401  (registers the event consumers)
