"""Sending e-mail to customers: one branded HTML part and a plain-text part, rendered in
the customer's language, delivered by the configured backend (SMTP or the mail folder).

Every app sends through :func:`send`; templates follow allauth's convention, so account
e-mails and the platform's own look the same::

    <template_name>_subject.txt   one line
    <template_name>_message.txt   the text part (required)
    <template_name>_message.html  the HTML body (optional; extends
                                  "notifications/email/base.html"). Without it the text
                                  part is laid out in the branded frame.
"""

from collections.abc import Iterable

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import translation

from .sms import send_sms

__all__ = ["render", "send", "send_sms"]


def _brand() -> dict:
    return {
        "operator_name": settings.OPERATOR_NAME,
        "brand_colour": settings.RINGUP_BRAND_COLOUR,
        "public_url": settings.PUBLIC_URL,
        "sales_email": settings.SALES_EMAIL,
        "sales_phone": settings.SALES_PHONE,
    }


def render(template_name: str, context: dict, *, language: str) -> tuple[str, str, str]:
    """``(subject, text, html)`` of ``template_name`` in ``language``."""
    context = {**_brand(), **context}
    with translation.override(language):
        subject = " ".join(render_to_string(f"{template_name}_subject.txt", context).split())
        text = render_to_string(f"{template_name}_message.txt", context).strip() + "\n"
        try:
            html = render_to_string(f"{template_name}_message.html", context)
        except TemplateDoesNotExist:
            html = render_to_string(
                "notifications/email/text_as_html.html",
                {**context, "subject": subject, "text": text},
            )
    return subject, text, html


def send(
    to: str | Iterable[str],
    template_name: str,
    context: dict,
    *,
    language: str,
    subject_prefix: str = "",
    headers: dict | None = None,
) -> int:
    """Render ``template_name`` in ``language`` and send it to ``to``; returns the number
    of messages the backend accepted (1). Raises what the backend raises (an SMTP error):
    callers that must not lose a message send from an outbox consumer, which retries."""
    subject, text, html = render(template_name, context, language=language)
    recipients = [to] if isinstance(to, str) else list(to)
    message = EmailMultiAlternatives(
        subject=subject_prefix + subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers=headers or {},
    )
    message.attach_alternative(html, "text/html")
    return message.send()
