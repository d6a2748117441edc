from django.apps import AppConfig


class PromotionsConfig(AppConfig):
    name = "ringup.marketing.promotions"
    label = "promotions"
    verbose_name = "Promotions"
