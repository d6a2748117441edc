from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "ringup.marketing.referrals"
    label = "referrals"
    verbose_name = "Referrals"
