from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "ringup.marketing.promotions"
    label = "promotions"
    verbose_name = "Promotions"

    def ready(self):
        from . import consumers  # noqa: F401 (registers the sign-up promo code consumer)
        from .quotes import register

        register()
