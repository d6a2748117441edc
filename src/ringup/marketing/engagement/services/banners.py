"""Showing banners (counted per day) and following their clicks."""

from dataclasses import dataclass
from datetime import datetime

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.urls import reverse
from django.utils import timezone

from ringup.customers.models import Customer
from ringup.engine.pricing import SelectionError
from ringup.events.services import emit
from ringup.marketing.segments.models import Segment

from ..models import Banner, BannerDay
from ..selectors.banners import banners_for, destination, image_url

SALT = "ringup.engagement.banner-click"
# A link in a page left open for weeks still works; an old leaked one does not.
CLICK_VALID_SECONDS = 30 * 24 * 3600


class BannerRefused(SelectionError):
    """A banner that cannot be saved; ``errors`` names the field (API: 422)."""


class ClickRefused(Exception):
    """The click token is forged, altered, expired, or names no banner any more."""


@dataclass(frozen=True)
class ShownBanner:
    """A banner as the portal renders it: ``url`` is its signed click link."""

    id: int
    title: str
    text: str
    label: str
    url: str
    image_url: str


def click_token(banner_id: int, customer_id: int) -> str:
    """A signed, dated token naming the banner and the customer who saw it."""
    return signing.dumps({"b": banner_id, "c": customer_id}, salt=SALT)


def _count(banner_ids: list[int], day, field: str) -> None:
    """Add one to ``field`` of each banner's row of ``day``: the rows are inserted if
    missing (insert-or-nothing), then incremented in SQL, so concurrent requests lose no
    count and no view writes a row of its own."""
    if not banner_ids:
        return
    with transaction.atomic():
        BannerDay.objects.bulk_create(
            [BannerDay(banner_id=pk, day=day) for pk in banner_ids], ignore_conflicts=True
        )
        BannerDay.objects.filter(banner_id__in=banner_ids, day=day).update(**{field: F(field) + 1})


def show_banners(customer: Customer, *, at: datetime, limit: int = 2) -> list[ShownBanner]:
    """The banners for ``customer``'s page at ``at`` (``selectors.banners_for``), each
    counted as one impression of the day."""
    chosen = banners_for(customer, at=at, limit=limit)
    _count([banner.pk for banner in chosen], timezone.localdate(at), "impressions")
    return [
        ShownBanner(
            id=banner.pk,
            title=banner.title,
            text=banner.text,
            label=banner.label,
            url=reverse("engagement:click", args=[click_token(banner.pk, customer.pk)]),
            image_url=image_url(banner),
        )
        for banner in chosen
    ]


def click(token: str, *, at: datetime) -> str:
    """Record a click on the banner the token names and return where it leads (a path of
    this site: ``selectors.destination``). Counts every click; emits ``banner.clicked`` once
    per banner, customer and day. Raises ``ClickRefused`` for a bad token."""
    try:
        data = signing.loads(token, salt=SALT, max_age=CLICK_VALID_SECONDS)
        banner_id, customer_id = int(data["b"]), int(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
        raise ClickRefused("this link is not valid") from error
    banner = Banner.objects.filter(pk=banner_id).first()
    if banner is None:
        raise ClickRefused("this offer no longer exists")
    day = timezone.localdate(at)
    url = destination(banner, customer_id, at=at)
    with transaction.atomic():
        _count([banner.pk], day, "clicks")
        if Customer.objects.filter(pk=customer_id).exists():
            emit(
                "banner.clicked",
                at=at,
                payload={
                    "banner": {
                        "id": banner.pk,
                        "title": banner.title,
                        "link": banner.link,
                        "target": banner.target,
                    },
                    "url": url,
                },
                customer_id=customer_id,
                key=f"banner.clicked:{banner.pk}:{customer_id}:{day.isoformat()}",
            )
    return url


def create_banner(fields: dict) -> Banner:
    """A banner from plain values (``segment`` an id or ``None``), validated as the back
    office validates it."""
    fields = dict(fields)
    # Valid text that no database column can hold (PostgreSQL refuses NUL): a bad field,
    # named, rather than an error at the insert.
    nul = {
        name: "must not contain the NUL character"
        for name, value in fields.items()
        if isinstance(value, str) and "\x00" in value
    }
    if nul:
        raise BannerRefused(nul)
    segment = fields.pop("segment", None)
    if segment is not None and not Segment.objects.filter(pk=segment).exists():
        raise BannerRefused({"segment": "no segment with this id"})
    banner = Banner(**fields, segment_id=segment)
    try:
        banner.full_clean(exclude=["image"])
    except ValidationError as invalid:
        raise BannerRefused(
            {field: " ".join(messages) for field, messages in invalid.message_dict.items()}
        ) from invalid
    # A value the database refuses (PostgreSQL: a UTC offset past ±15:59) fails inside
    # its own savepoint, so the caller's transaction stays usable for the 422 it answers.
    with transaction.atomic():
        banner.save()
    return banner
