"""E-mail delivery from one URL (``RINGUP_EMAIL_URL``), read by the settings module.

No Django imports: the settings module calls :func:`email_settings` before apps load.
"""

from urllib.parse import unquote, urlsplit

MAIL_FOLDER_BACKEND = "ringup.notifications.backends.MailFolderBackend"
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_PORTS = {"smtp": 25, "smtp+tls": 587, "smtp+ssl": 465}


def email_settings(url: str) -> dict:
    """Django's e-mail settings for ``url``.

    ``""`` → the mail folder (each message an .eml file under ``RINGUP_DATA_DIR/mail/``);
    ``smtp://host:port`` → plain SMTP; ``smtp+tls://user:pass@host:587`` → STARTTLS;
    ``smtp+ssl://user:pass@host:465`` → implicit TLS. Anything else is a ``ValueError``
    naming the variable, so a typo stops start-up instead of losing mail.
    """
    if not url.strip():
        return {"EMAIL_BACKEND": MAIL_FOLDER_BACKEND}
    parts = urlsplit(url.strip())
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname:
        raise ValueError(
            f"RINGUP_EMAIL_URL must be smtp://host:port, smtp+tls://user:pass@host:587 or "
            f"smtp+ssl://user:pass@host:465, not {parts.scheme or url!r}"
        )
    return {
        "EMAIL_BACKEND": SMTP_BACKEND,
        "EMAIL_HOST": parts.hostname,
        "EMAIL_PORT": parts.port or DEFAULT_PORTS[parts.scheme],
        "EMAIL_HOST_USER": unquote(parts.username or ""),
        "EMAIL_HOST_PASSWORD": unquote(parts.password or ""),
        "EMAIL_USE_TLS": parts.scheme == "smtp+tls",
        "EMAIL_USE_SSL": parts.scheme == "smtp+ssl",
    }
