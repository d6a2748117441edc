"""API keys: a staff user's bearer token for an integration (CRM, website, accounting)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ApiKey(models.Model):
    """One integration's key. Only the SHA-256 of the token is stored: the token itself is
    shown once, when the key is created. The key acts as its owner and works only while
    the owner is an active staff user, the key is not revoked and has not expired."""

    name = models.CharField(
        max_length=100, help_text=_("What the key is for, e.g. “CRM”, “website”, “1C”.")
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="api_keys",
        help_text=_("The staff user the key acts as."),
    )
    # Public: tells keys apart in lists and finds the row for a presented token.
    prefix = models.CharField(max_length=16, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(
        null=True, blank=True, help_text=_("Empty: the key does not expire.")
    )
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} (rk_{self.prefix}_…)"

    def is_usable(self, *, at) -> bool:
        """Not revoked, not expired at ``at``, and owned by an active staff user."""
        return (
            self.revoked_at is None
            and (self.expires_at is None or at < self.expires_at)
            and self.owner.is_active
            and self.owner.is_staff
        )
