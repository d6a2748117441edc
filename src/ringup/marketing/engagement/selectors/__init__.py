"""Reads of the engagement app: banners, related products, follow-up tasks, timeline."""

from .banners import banner_stats, banners_for, destination, eligible, image_url
from .related import Suggestion, related_for
from .tasks import get_task, queue, tasks
from .timeline import Entry, timeline

__all__ = [
    "Entry",
    "Suggestion",
    "banner_stats",
    "banners_for",
    "destination",
    "eligible",
    "get_task",
    "image_url",
    "queue",
    "related_for",
    "tasks",
    "timeline",
]
