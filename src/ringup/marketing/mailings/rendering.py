"""Turning a template and a recipient into an e-mail: the language variant, personalisation
on a restricted context, the operator's branded layout, tracked links, unsubscribe headers.

Personalisation uses Django's template language through an engine of its own with no
template loaders (``{% include %}`` and ``{% extends %}`` find nothing) over a context of
plain strings and a dict of links, so a template cannot reach a model's attributes.
"""

import re
from dataclasses import dataclass
from email.utils import parseaddr
from functools import lru_cache

from django.conf import settings
from django.core import signing
from django.core.mail import EmailMultiAlternatives
from django.template import Context, Engine
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, translation
from django.utils.html import escape
from django.utils.safestring import mark_safe

from .models import Template, TemplateVariant

UNSUBSCRIBE_SALT = "ringup.mailings.unsubscribe"
CLICK_SALT = "ringup.mailings.click"
OPEN_SALT = "ringup.mailings.open"
_ENGINE = Engine(loaders=[("django.template.loaders.locmem.Loader", {})], autoescape=True)
_HREF = re.compile(r'href="(https?://[^"]+)"')


@dataclass(frozen=True)
class Personal:
    """What a template may show about its recipient."""

    customer_name: str
    email: str
    language: str
    plan: str = ""
    trial_ends_at: object = None  # a datetime, formatted in the template's language


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str
    language: str


def variant_for(template: Template, language: str) -> TemplateVariant:
    """The variant in ``language``, else the template's default language, else any."""
    variants = {variant.language: variant for variant in template.variants.all()}
    chosen = variants.get(language) or variants.get(template.default_language)
    if chosen is None and variants:
        chosen = next(iter(variants.values()))
    if chosen is None:
        raise LookupError(f"template {template} has no variant")
    return chosen


def public(path: str) -> str:
    return settings.PUBLIC_URL + path


def unsubscribe_token(recipient_id: int) -> str:
    return signing.Signer(salt=UNSUBSCRIBE_SALT).sign(str(recipient_id))


def read_unsubscribe_token(token: str) -> int:
    """The recipient id of a token; raises ``signing.BadSignature`` when forged."""
    return int(signing.Signer(salt=UNSUBSCRIBE_SALT).unsign(token))


def click_token(recipient_id: int, url: str) -> str:
    return signing.Signer(salt=CLICK_SALT).sign_object({"r": recipient_id, "u": url}, compress=True)


def read_click_token(token: str) -> tuple[int, str]:
    """``(recipient id, url)``: only URLs this module signed while rendering a template's
    links can come out, so the redirect is not open."""
    data = signing.Signer(salt=CLICK_SALT).unsign_object(token)
    return int(data["r"]), str(data["u"])


def open_token(recipient_id: int) -> str:
    return signing.Signer(salt=OPEN_SALT).sign(str(recipient_id))


def read_open_token(token: str) -> int:
    return int(signing.Signer(salt=OPEN_SALT).unsign(token))


def _context(person: Personal, unsubscribe_url: str) -> dict:
    trial_end = ""
    if person.trial_ends_at:
        with translation.override(person.language):
            trial_end = formats.date_format(person.trial_ends_at, "DATE_FORMAT")
    return {
        "customer_name": person.customer_name,
        "email": person.email,
        "plan": person.plan,
        "trial_ends_at": trial_end,
        "operator_name": settings.OPERATOR_NAME,
        "links": {
            "portal": public("/portal/"),
            "pricing": public("/pricing/"),
            "signup": public("/signup/"),
            "home": public("/"),
            "unsubscribe": unsubscribe_url,
        },
    }


@lru_cache(maxsize=256)
def _compiled(source: str):
    # A campaign renders the same few sources thousands of times: parse each once.
    return _ENGINE.from_string(source)


def check_source(source: str) -> None:
    """Raise ``TemplateSyntaxError`` when ``source`` is not a valid template."""
    _ENGINE.from_string(source)


def _fill(source: str, context: dict, *, autoescape: bool) -> str:
    return _compiled(source).render(Context(context, autoescape=autoescape))


def render(
    variant: TemplateVariant,
    person: Personal,
    *,
    recipient_id: int | None,
    track_clicks: bool = True,
    track_opens: bool = False,
) -> Rendered:
    """The message for ``person``; ``recipient_id`` signs its unsubscribe and click links
    (``None`` for a preview or a test send: the links then lead nowhere personal)."""
    token = unsubscribe_token(recipient_id) if recipient_id is not None else "preview"
    unsubscribe_url = link("mailings:unsubscribe", token)
    context = _context(person, unsubscribe_url)
    subject = " ".join(_fill(variant.subject, context, autoescape=False).split())
    text = _fill(variant.text, context, autoescape=False).strip()
    body = _fill(variant.html, context, autoescape=True)
    if track_clicks and recipient_id is not None:
        body = _track_links(body, recipient_id, keep={unsubscribe_url})
    with_pixel = track_opens and recipient_id is not None
    html, footer = _layout(variant.language, tuple(_brand().items()), with_pixel)
    html = (
        html.replace(_SLOTS["subject"], escape(subject))
        .replace(_SLOTS["unsubscribe_url"], escape(unsubscribe_url))
        .replace(
            _SLOTS["pixel_url"],
            link("mailings:open", open_token(recipient_id)) if with_pixel else "",
        )
        .replace(_SLOTS["body"], body)  # last: the body is the customer-facing text
    )
    footer = footer.replace(_SLOTS["unsubscribe_url"], unsubscribe_url)
    return Rendered(subject, f"{text}\n\n-- \n{footer}\n", html, variant.language)


# The branded layout is the same for every recipient but for these parts: it is rendered
# once per language with placeholders, which each message then fills.
_SLOTS = {
    name: f"@@ringup-mailing-{name}@@"
    for name in ("subject", "body", "unsubscribe_url", "pixel_url")
}


@lru_cache(maxsize=32)
def _layout(language: str, brand: tuple, with_pixel: bool) -> tuple[str, str]:
    slots = {**_SLOTS, "body": mark_safe(_SLOTS["body"])}  # noqa: S308 (a constant)
    if not with_pixel:
        slots["pixel_url"] = ""
    with translation.override(language):
        html = render_to_string("mailings/email/message.html", {**dict(brand), **slots})
        footer = render_to_string(
            "mailings/email/footer.txt",
            {**dict(brand), "unsubscribe_url": _SLOTS["unsubscribe_url"]},
        ).strip()
    return html, footer


@lru_cache(maxsize=8)
def _url_pattern(name: str) -> str:
    return public(reverse(name, args=["TOKEN"]))


def link(name: str, token: str) -> str:
    """The public URL of the mailing view ``name`` for ``token``."""
    return _url_pattern(name).replace("TOKEN", token)


def _track_links(html: str, recipient_id: int, *, keep: set[str]) -> str:
    def replace(match: re.Match) -> str:
        url = match.group(1).replace("&amp;", "&")
        if url in keep:
            return match.group(0)
        return f'href="{link("mailings:click", click_token(recipient_id, url))}"'

    return _HREF.sub(replace, html)


def _brand() -> dict:
    # The keys of the notifications' branded layout (notifications/email/base.html).
    return {
        "operator_name": settings.OPERATOR_NAME,
        "brand_colour": settings.RINGUP_BRAND_COLOUR,
        "public_url": settings.PUBLIC_URL,
        "sales_email": settings.SALES_EMAIL,
        "sales_phone": settings.SALES_PHONE,
    }


def message_id(recipient_id: int) -> str:
    """One Message-ID per recipient row: a message sent again after a crash carries the
    same id, so the receiving side can recognise it as the same message."""
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "ringup.invalid"
    return f"<mailing.r{recipient_id}@{domain}>"


def email_message(
    rendered: Rendered, to: str, *, recipient_id: int | None, connection=None
) -> EmailMultiAlternatives:
    """The e-mail with RFC 8058 one-click unsubscribe headers (and a per-recipient
    Message-ID when it is a recipient's)."""
    headers = {}
    if recipient_id is not None:
        token = unsubscribe_token(recipient_id)
        url = link("mailings:unsubscribe", token)
        targets = [f"<{url}>"]
        if settings.RINGUP_MAILINGS_UNSUBSCRIBE_MAILTO:  # only when its mailbox is read
            address = settings.RINGUP_MAILINGS_UNSUBSCRIBE_MAILTO
            targets.append(f"<mailto:{address}?subject=unsubscribe%20{token}>")
        headers = {
            "Message-ID": message_id(recipient_id),
            "List-Unsubscribe": ", ".join(targets),
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Precedence": "bulk",
        }
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[to],
        headers=headers,
        connection=connection,
    )
    message.attach_alternative(rendered.html, "text/html")
    return message
