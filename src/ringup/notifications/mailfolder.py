"""The mail folder: each message one RFC 5322 file (.eml) under ``RINGUP_MAIL_DIR``.

The embedded default "sends" e-mail and SMS here, so a try-out installation shows what
would have gone out, and the back office lists it (``Mail folder``).
"""

import email
import email.policy
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parsedate_to_datetime
from pathlib import Path

from django.conf import settings

SUFFIX = ".eml"


def folder() -> Path:
    path = Path(settings.RINGUP_MAIL_DIR)
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(raw: bytes, *, at: datetime) -> Path:
    """Write one message; the name sorts by time and never collides."""
    stamp = at.astimezone(UTC).strftime("%Y%m%dT%H%M%S%f")
    path = folder() / f"{stamp}-{secrets.token_hex(4)}{SUFFIX}"
    temporary = path.with_suffix(".tmp")
    temporary.write_bytes(raw)
    temporary.replace(path)  # readers never see half a message
    return path


@dataclass(frozen=True)
class StoredMessage:
    name: str
    subject: str
    sender: str
    to: str
    date: datetime | None
    kind: str
    text: str
    html: str

    @property
    def is_sms(self) -> bool:
        return self.kind == "sms"


def _parse(path: Path) -> StoredMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    text = message.get_body(preferencelist=("plain",))
    html = message.get_body(preferencelist=("html",))
    try:
        date = parsedate_to_datetime(message["Date"]) if message["Date"] else None
    except (TypeError, ValueError):
        date = None
    return StoredMessage(
        name=path.name,
        subject=str(message["Subject"] or ""),
        sender=str(message["From"] or ""),
        to=str(message["To"] or ""),
        date=date,
        kind=str(message["X-Ringup-Kind"] or "email"),
        text=text.get_content() if text else "",
        html=html.get_content() if html else "",
    )


def messages(limit: int = 200) -> list[StoredMessage]:
    """The newest ``limit`` messages, newest first."""
    paths = sorted(folder().glob(f"*{SUFFIX}"), reverse=True)[:limit]
    return [_parse(path) for path in paths]


def message(name: str) -> StoredMessage | None:
    """The message stored as ``name``; ``None`` for any name that is not one of ours."""
    if Path(name).name != name or not name.endswith(SUFFIX):
        return None
    path = folder() / name
    return _parse(path) if path.is_file() else None
