"""Which banners a customer sees, and where a banner's click leads."""

import hashlib
from datetime import datetime

from django.db.models import Q, Sum
from django.http import QueryDict
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.marketing.segments.selectors import members

from ..models import Banner, BannerDay, is_site_path
from .related import live_subscriptions


def scheduled(at: datetime, *, language: str | None = None):
    """Active banners whose schedule includes ``at`` (of ``language`` or of every one)."""
    found = (
        Banner.objects.filter(active=True)
        .filter(Q(starts_at__isnull=True) | Q(starts_at__lte=at))
        .filter(Q(ends_at__isnull=True) | Q(ends_at__gt=at))
        .select_related("segment")
    )
    if language is not None:
        found = found.filter(Q(language="") | Q(language=language))
    return found


def eligible(customer: Customer, *, at: datetime) -> list[Banner]:
    """The banners ``customer`` may see at ``at``: scheduled, in their language or in every
    one, and untargeted or targeted at a segment they belong to at ``at`` (one query for
    the banners, one per targeted segment)."""
    found = list(scheduled(at, language=customer.language).order_by("pk"))
    segments = {banner.segment_id: banner.segment for banner in found if banner.segment_id}
    inside = {
        pk
        for pk, segment in segments.items()
        if members(segment, at=at).filter(pk=customer.pk).exists()
    }
    return [banner for banner in found if banner.segment_id is None or banner.segment_id in inside]


def rotation_key(banner: Banner, seed: str) -> float:
    """The banner's place in a weighted shuffle keyed by ``seed``: higher comes first.

    Efraimidis–Spirakis: with ``u`` uniform in (0, 1], ``u ** (1 / weight)`` orders a
    weighted sample without replacement, so a banner of weight 3 is first three times as
    often as one of weight 1. ``u`` comes from SHA-256 of the seed and the banner, so the
    order is the same for the same seed (no flicker on reload) and independent between
    seeds.
    """
    digest = hashlib.sha256(f"{seed}:{banner.pk}".encode()).digest()
    uniform = (int.from_bytes(digest[:8], "big") + 1) / 2**64
    return uniform ** (1 / banner.weight)


def day_seed(customer_id: int, day) -> str:
    return f"banner:{customer_id}:{day.isoformat()}"


def banners_for(customer: Customer, *, at: datetime, limit: int = 2) -> list[Banner]:
    """Up to ``limit`` of the banners ``customer`` may see at ``at``, chosen by weighted
    rotation. The rotation is deterministic per customer and local day: reloading the
    page shows the same banners; the next day may show others."""
    seed = day_seed(customer.pk, timezone.localdate(at))
    found = eligible(customer, at=at)
    return sorted(found, key=lambda banner: rotation_key(banner, seed), reverse=True)[:limit]


def destination(banner: Banner, customer_id: int | None, *, at: datetime) -> str:
    """Where a click on ``banner`` leads: always a path of this site, built from the
    banner's structured link (never from the request).

    An option or a plan leads to the customer's change preview of their first live
    subscription (``/portal/subscriptions/<id>/preview/?add=CODE`` or ``?plan=CODE``), or
    to the plan's buy link when they have none; a buy link to ``/buy/<plan>/?<choices>``;
    a help page to ``/portal/help/<slug>/``; a page to its path. A link that cannot be
    followed any more leads to the portal's dashboard.
    """
    fallback = reverse("portal:dashboard")
    target = banner.target
    if banner.link in (Banner.Link.OPTION, Banner.Link.PLAN):
        subscriptions = live_subscriptions(customer_id, at) if customer_id else []
        parameter = "add" if banner.link == Banner.Link.OPTION else "plan"
        if subscriptions:
            query = QueryDict(mutable=True)
            query[parameter] = target
            preview = reverse("portal:preview", args=[subscriptions[0].pk])
            return f"{preview}?{query.urlencode()}"
        if banner.link == Banner.Link.OPTION:
            return fallback
        return reverse("site:buy", args=[target])
    if banner.link == Banner.Link.BUY:
        # Re-encoded from its parsed pairs: the choices can add parameters, never a host.
        choices = QueryDict(banner.query).urlencode()
        url = reverse("site:buy", args=[target])
        return f"{url}?{choices}" if choices else url
    if banner.link == Banner.Link.HELP:
        return reverse("portal:help_article", args=[target])
    if banner.link == Banner.Link.PAGE and is_site_path(target):
        return target
    return fallback


def image_url(banner: Banner) -> str:
    """The banner's picture: the uploaded image (served by ``/b/image/<id>/``), a static
    file, or ``""``."""
    if banner.image:
        return reverse("engagement:image", args=[banner.pk])
    if banner.image_static:
        return static(banner.image_static)
    return ""


def banner_stats(banners) -> dict[int, dict[str, int]]:
    """Impressions and clicks of all time per banner id (one query)."""
    rows = (
        BannerDay.objects.filter(banner__in=banners)
        .values("banner_id")
        .annotate(impressions=Sum("impressions"), clicks=Sum("clicks"))
    )
    return {
        row["banner_id"]: {"impressions": row["impressions"], "clicks": row["clicks"]}
        for row in rows
    }
