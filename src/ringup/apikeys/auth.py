"""``Authorization: Bearer rk_…`` for the django-ninja routers of the staff API."""

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import AuthenticationError
from ninja.security import HttpBearer

from . import services


class ApiKeyAuth(HttpBearer):
    """An API key in the ``Authorization: Bearer`` header; the request then acts as the
    key's owner (``request.user``, ``request.auth``) and ``request.api_key`` is the key.

    Meant to come first in a router's ``auth=[ApiKeyAuth(), SessionAuthIsStaff()]``:

    - a request presenting a bearer token is answered by the token alone: a bad one is
      401 at once rather than falling through to the session. It carries no cookies, so
      there is nothing for CSRF to protect and no CSRF token is asked for;
    - a request with neither the header nor a session cookie has no credentials at all:
      401, rather than the session's CSRF 403 on a POST, which would send an
      integration looking for a CSRF token it does not need;
    - otherwise the session decides, CSRF check included.
    """

    openapi_description = (
        "An API key made in the back office (API keys) or by `ringup create-api-key`: "
        "`Authorization: Bearer rk_…`. No CSRF token is needed."
    )

    def __call__(self, request: HttpRequest):
        if self.header not in request.headers and (
            settings.SESSION_COOKIE_NAME not in request.COOKIES
        ):
            raise AuthenticationError()
        return super().__call__(request)

    def authenticate(self, request: HttpRequest, token: str):
        key = services.authenticate(token.strip(), at=timezone.now())
        if key is None:
            raise AuthenticationError()
        request.user = key.owner
        request.api_key = key
        return key.owner
