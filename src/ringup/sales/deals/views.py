"""The proposal: one template rendered as a page and, by WeasyPrint, as a PDF, in the
customer's language; public through a share link, and to staff from the deal page."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.views.decorators.http import require_GET

from .models import Deal, ProposalLink
from .selectors import deal_context
from .services.proposals import LinkExpired, open_link


def _language(deal: Deal) -> str:
    language = (deal.customer.language or "ru")[:2]
    return language if language in ("en", "ru") else "en"


def proposal_response(request, deal: Deal, *, pdf: bool, link: ProposalLink | None = None):
    """The deal's proposal as HTML or PDF, in the customer's language."""
    with translation.override(_language(deal)):
        context = {
            **deal_context(deal),
            "link": link,
            "pdf": pdf,
            "today": timezone.localdate(),
        }
        if not pdf:
            return render(request, "deals/proposal.html", context)
        html = render_to_string("deals/proposal.html", context, request)
    # WeasyPrint loads Pango when imported: only the PDF view should pay for that.
    from weasyprint import HTML

    document = HTML(string=html, base_url=request.build_absolute_uri("/")).write_pdf()
    response = HttpResponse(document, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="proposal-{deal.pk}.pdf"'
    return response


def _shared(request, token: str):
    try:
        link = open_link(token, at=timezone.now())
    except LinkExpired as expired:
        with translation.override(_language(expired.link.deal)):
            return None, render(
                request, "deals/link_expired.html", {"link": expired.link}, status=410
            )
    if link is None:
        raise Http404("no such proposal")
    return link, None


@require_GET
def shared_proposal(request, token: str):
    link, refused = _shared(request, token)
    return refused or proposal_response(request, link.deal, pdf=False, link=link)


@require_GET
def shared_proposal_pdf(request, token: str):
    link, refused = _shared(request, token)
    return refused or proposal_response(request, link.deal, pdf=True, link=link)
