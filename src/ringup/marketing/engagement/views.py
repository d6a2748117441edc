"""The banner click redirect and uploaded banner images (``/b/…``)."""

import mimetypes

from django.http import FileResponse, Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from .models import Banner
from .services.banners import ClickRefused, click

# Served inline only as raster images: an SVG or HTML upload is never served as such.
IMAGE_TYPES = {"image/png", "image/jpeg", "image/webp", "image/gif"}


@require_GET
def banner_click(request, token: str):
    """Count the click and redirect to the banner's destination, a path of this site
    computed from the banner (query parameters such as ``?next=`` are ignored)."""
    try:
        url = click(token, at=timezone.now())
    except ClickRefused as refused:
        return render(
            request, "engagement/click_refused.html", {"reason": str(refused)}, status=404
        )
    response = HttpResponseRedirect(url)
    response["Cache-Control"] = "no-store"  # every click reaches the counter
    return response


@require_GET
@cache_control(public=True, max_age=3600)
def banner_image(request, pk: int):
    banner = get_object_or_404(Banner, pk=pk)
    if not banner.image:
        raise Http404("no image")
    content_type, _ = mimetypes.guess_type(banner.image.name)
    if content_type not in IMAGE_TYPES:
        raise Http404("not an image")
    response = FileResponse(banner.image.open("rb"), content_type=content_type)
    response["X-Content-Type-Options"] = "nosniff"
    return response
