from django.apps import AppConfig


class SiteConfig(AppConfig):
    name = "ringup.site"
    label = "public_site"
    verbose_name = "Public site"

    def ready(self):
        from allauth.account.signals import email_confirmed

        from .receivers import on_email_confirmed

        email_confirmed.connect(on_email_confirmed, dispatch_uid="ringup.site.email_confirmed")
