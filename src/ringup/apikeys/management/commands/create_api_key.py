"""``ringup create-api-key --name NAME --user USERNAME [--expires YYYY-MM-DD]``: make an
API key acting as a staff user and print its token, the only time it is shown."""

from datetime import date
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from ringup.apikeys import services
from ringup.apikeys.models import ApiKey
from ringup.engine.periods import local_midnight

USAGE_ERROR = 2
NAME_LENGTH = ApiKey._meta.get_field("name").max_length


class Command(BaseCommand):
    help = (
        "Make an API key that acts as a staff user and print its token "
        "(Authorization: Bearer <token>). The token is not stored: copy it now."
    )

    def add_arguments(self, parser):
        parser.add_argument("--name", required=True, help="what the key is for, e.g. CRM")
        parser.add_argument("--user", required=True, help="username of the staff user")
        parser.add_argument(
            "--expires",
            help="YYYY-MM-DD: the key stops working as that day starts (TIME_ZONE)",
        )

    def handle(self, *args, name: str, user: str, expires: str | None, **options):
        now = timezone.now()
        name = name.strip()
        if not name or len(name) > NAME_LENGTH:
            raise _usage(f"--name must be 1 to {NAME_LENGTH} characters")
        owner = get_user_model().objects.filter(username=user).first()
        if owner is None:
            raise _usage(f"--user {user!r}: no such user")
        if not (owner.is_active and owner.is_staff):
            raise _usage(f"--user {user!r}: not an active staff user")
        expires_at = _expiry(expires, now) if expires else None
        token = services.issue(ApiKey(name=name, owner=owner, expires_at=expires_at), at=now)
        self.stderr.write(
            f"API key “{name}” acting as {owner.get_username()}. The token is shown only now:"
        )
        self.stdout.write(token)


def _expiry(expires: str, now):
    try:
        day = date.fromisoformat(expires)
    except ValueError:
        raise _usage(f"--expires must be a date YYYY-MM-DD, not {expires!r}") from None
    expires_at = local_midnight(day, ZoneInfo(settings.TIME_ZONE))
    if expires_at <= now:
        raise _usage(f"--expires {expires}: that day has already begun")
    return expires_at


def _usage(message: str) -> CommandError:
    return CommandError(message, returncode=USAGE_ERROR)
