from django.apps import AppConfig


class SegmentsConfig(AppConfig):
    name = "ringup.marketing.segments"
    label = "segments"
    verbose_name = "Segments"
