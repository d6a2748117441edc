"""allauth's signals, turned into sign-up service calls."""

from django.utils import timezone

from . import signup


def on_email_confirmed(request, email_address, **kwargs) -> None:
    """A verified address creates the customer and (phone confirmed) starts the trial."""
    signup.email_verified(email_address.user, at=timezone.now())
