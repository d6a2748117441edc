from django.apps import AppConfig


class MailingsConfig(AppConfig):
    name = "ringup.marketing.mailings"
    label = "mailings"
    verbose_name = "Mailings"
