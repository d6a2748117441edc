"""The invoice as a document: HTML for staff in the back office, and the same template
printed to PDF by WeasyPrint."""

from datetime import timedelta

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils import timezone

from .conf import billing_settings
from .models import Invoice, InvoiceLine
from .selectors.invoices import get_invoice, invoice_owed

Kind = InvoiceLine.Kind
SECTIONS = [
    ("Service", {Kind.RECURRING, Kind.DISCOUNT, Kind.ONE_TIME}),
    ("Changes during the period", {Kind.PRORATION}),
    ("Calls by destination", {Kind.USAGE, Kind.COMMITMENT}),
    ("Credits", {Kind.CREDIT}),
]


def _sections(lines: list[InvoiceLine]) -> list[tuple[str, list[InvoiceLine]]]:
    """The lines under headings, in the order billing staff read them."""
    found = []
    for title, kinds in SECTIONS:
        members = [line for line in lines if line.kind in kinds]
        if members:
            found.append((title, members))
    return found


def invoice_context(invoice: Invoice) -> dict:
    settings = billing_settings()
    zone = settings.zone
    lines = list(invoice.lines.all())
    owed = invoice_owed(invoice) if invoice.is_finalised else invoice.total
    return {
        "invoice": invoice,
        "seller": settings.seller,
        "buyer": invoice.buyer,
        "sections": _sections(lines),
        "issued_on": timezone.localtime(invoice.issued_at, zone).date(),
        "due_on": timezone.localtime(invoice.due_at, zone).date(),
        "period_first_day": timezone.localtime(invoice.period_start, zone).date(),
        "period_last_day": (
            timezone.localtime(invoice.period_end, zone) - timedelta(days=1)
        ).date(),
        "closing": invoice.reason == Invoice.Reason.CLOSING,
        "ended_on": (
            timezone.localtime(invoice.subscription.ended_at, zone).date()
            if invoice.subscription and invoice.subscription.ended_at
            else None
        ),
        "owed": owed,
        "paid": invoice.total - owed,
        "credit_notes": list(invoice.credit_notes.all()),
    }


def render_invoice(invoice: Invoice, *, for_print: bool) -> str:
    return render_to_string(
        "billing/invoice.html", {**invoice_context(invoice), "for_print": for_print}
    )


def invoice_pdf_bytes(invoice: Invoice) -> bytes:
    from weasyprint import HTML  # heavy import, only when a PDF is asked for

    return HTML(string=render_invoice(invoice, for_print=True)).write_pdf()


def pdf_response(invoice: Invoice) -> HttpResponse:
    response = HttpResponse(invoice_pdf_bytes(invoice), content_type="application/pdf")
    name = invoice.number or f"draft-{invoice.pk}"
    response["Content-Disposition"] = f'inline; filename="invoice-{name}.pdf"'
    return response


def _invoice_or_404(pk: int) -> Invoice:
    invoice = get_invoice(pk)
    if invoice is None:
        raise Http404("no invoice with this id")
    return invoice


def invoice_document(request, pk: int):
    """Staff view of an invoice (wrapped by the admin site, which checks staff access)."""
    invoice = _invoice_or_404(pk)
    return render(request, "billing/invoice.html", {**invoice_context(invoice), "for_print": False})


def invoice_pdf(request, pk: int):
    return pdf_response(_invoice_or_404(pk))
