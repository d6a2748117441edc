"""The public pages a mailing's links lead to. None needs a login or a cookie."""

import base64

from django.core import signing
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils import timezone, translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods

from . import rendering, services
from .models import Recipient

# A transparent 1×1 GIF.
PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


def _recipient(recipient_id: int) -> Recipient:
    recipient = (
        Recipient.objects.select_related("run__mailing", "customer").filter(pk=recipient_id).first()
    )
    if recipient is None:
        raise Http404("unknown recipient")
    return recipient


@never_cache
@csrf_exempt  # RFC 8058: the mail client's one-click POST carries no cookie or token
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows a confirmation page and changes nothing (mail scanners follow links);
    POST — the page's button or the mail client's one-click — suppresses the address."""
    try:
        recipient = _recipient(rendering.read_unsubscribe_token(token))
    except signing.BadSignature:
        raise Http404("bad link") from None
    with translation.override(recipient.customer.language):
        if request.method == "POST":
            services.unsubscribe(recipient, at=timezone.now())
            return render(request, "mailings/unsubscribed.html", {"email": recipient.email})
        return render(
            request, "mailings/unsubscribe.html", {"email": recipient.email, "token": token}
        )


@never_cache
@require_GET
def click(request, token: str):
    """Count the click and redirect to the template's link the token was signed for."""
    try:
        recipient_id, url = rendering.read_click_token(token)
    except (signing.BadSignature, ValueError, KeyError, TypeError):
        raise Http404("bad link") from None
    services.record_click(_recipient(recipient_id), url, at=timezone.now())
    return HttpResponseRedirect(url)


@never_cache
@require_GET
def opened(request, token: str):
    try:
        recipient = _recipient(rendering.read_open_token(token))
    except signing.BadSignature:
        raise Http404("bad link") from None
    services.record_open(recipient, at=timezone.now())
    return HttpResponse(PIXEL, content_type="image/gif")
