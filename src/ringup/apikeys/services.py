"""Issuing, checking and revoking API keys.

A token reads ``rk_<prefix>_<secret>``: ``prefix`` is 8 hex characters, public, shown in
lists and used to find the key's row; ``secret`` is ``secrets.token_urlsafe(32)``
(256 random bits). Only SHA-256 of the whole token is stored. A slow password hash
would add nothing here: the secret is random, not chosen by a person, so it cannot be
guessed from a dictionary.
"""

import hashlib
import hmac
import re
import secrets
from datetime import datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Q

from .models import ApiKey

SCHEME = "rk"
PREFIX_BYTES = 4
SECRET_BYTES = 32
TOKEN_SHAPE = re.compile(
    rf"{SCHEME}_(?P<prefix>[0-9a-f]{{{2 * PREFIX_BYTES}}})_[A-Za-z0-9_-]+", re.ASCII
)
# Long enough for any token we issue; anything longer is refused before hashing.
MAX_TOKEN_LENGTH = 100
# A busy integration should not write a row on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class NotStaff(ValueError):
    """The owner of a new key must be an active staff user."""


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue(key: ApiKey, *, at: datetime) -> str:
    """Save the unsaved ``key`` (name, owner and expiry filled in) with a new secret and
    return its token. Only the hash is stored, so this return value is the only time
    anyone sees the token. Raises ``NotStaff`` for an owner who is not an active staff
    user."""
    owner = key.owner
    if not (owner.is_active and owner.is_staff):
        raise NotStaff(f"{owner.get_username()} is not an active staff user")
    key.created_at = at
    # 2**32 prefixes: a clash is rare, and the unique constraint is what detects it.
    for _attempt in range(5):
        key.prefix, token = _new_token()
        key.token_hash = hash_token(token)
        try:
            with transaction.atomic():
                key.save(force_insert=True)
        except IntegrityError:
            key.pk = None
            continue
        return token
    raise RuntimeError("could not draw an unused key prefix")


def authenticate(token: str, *, at: datetime) -> ApiKey | None:
    """The usable key this token belongs to, or None (malformed, unknown, revoked,
    expired, or its owner is no longer an active staff user). Records the use in
    ``last_used_at``, at most once per ``LAST_USED_RESOLUTION``."""
    prefix = _prefix_of(token)
    if prefix is None:
        return None
    key = ApiKey.objects.select_related("owner").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.token_hash, hash_token(token)):
        return None
    if not key.is_usable(at=at):
        return None
    _touch(key, at=at)
    return key


def revoke(key: ApiKey, *, at: datetime) -> bool:
    """Revoke the key from ``at`` on; False when it already was (its date is kept)."""
    revoked = ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(revoked_at=at)
    if revoked:
        key.revoked_at = at
    return bool(revoked)


def _new_token() -> tuple[str, str]:
    prefix = secrets.token_hex(PREFIX_BYTES)
    return prefix, f"{SCHEME}_{prefix}_{secrets.token_urlsafe(SECRET_BYTES)}"


def _prefix_of(token: str) -> str | None:
    # Checked before the database sees any of it: the prefix is looked up, and a header
    # may carry anything (NUL bytes, which PostgreSQL text refuses; megabytes).
    match = TOKEN_SHAPE.fullmatch(token) if len(token) <= MAX_TOKEN_LENGTH else None
    return match["prefix"] if match else None


def _touch(key: ApiKey, *, at: datetime) -> None:
    stale = at - LAST_USED_RESOLUTION
    if key.last_used_at is not None and key.last_used_at > stale:
        return
    # The condition repeats in SQL so that concurrent requests write once between them.
    ApiKey.objects.filter(pk=key.pk).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lte=stale)
    ).update(last_used_at=at)
    key.last_used_at = at
