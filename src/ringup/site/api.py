"""Trial sign-up over the API: the same checks and guards as the sign-up page."""

from typing import Annotated, Literal

from django.core.exceptions import PermissionDenied
from django.utils import timezone
from ninja import Field, Router, Schema, Status
from pydantic import ConfigDict, StringConstraints

from ringup.catalog.api import Code, Message, Unprocessable

from . import signup as signups

router = Router(tags=["signup"])


class SignupIn(Schema):
    model_config = ConfigDict(strict=True)

    email: Annotated[str, StringConstraints(min_length=3, max_length=254)] = Field(
        description="Becomes the login; a verification link is e-mailed to it."
    )
    phone: Annotated[str, StringConstraints(min_length=1, max_length=32)] = Field(
        description="Mobile number, any notation; stored as E.164. A code is sent by SMS."
    )
    password: Annotated[str, StringConstraints(min_length=1, max_length=128)]
    plan: Code
    options: list[Code] = Field(default_factory=list, max_length=50)
    employees: int | None = Field(None, ge=1, le=100_000)
    period: Literal["monthly", "annual"] = "monthly"
    promo_code: Code | None = None
    referral_code: Code | None = None


class SignupOut(Schema):
    id: int
    detail: str


def _unprocessable(errors: dict) -> Status:
    return Status(
        422,
        {
            "detail": [
                {"type": "value_error", "loc": ["body", field], "msg": str(message)}
                for field, message in errors.items()
            ]
        },
    )


@router.post(
    "/signup",
    response={201: SignupOut, 400: Message, 403: Message, 422: Unprocessable, 429: Message},
    summary="Sign up for a free trial",
    description=(
        "Creates the account and e-mails the verification link. The trial of `plan` "
        "starts once the e-mail address is verified and the phone confirmed by the SMS "
        "code (asked for at the first login). One trial per e-mail address and per "
        "phone number. 403 when the client's IP address is unknown: sign-ups are counted "
        "per address."
    ),
)
def signup(request, payload: SignupIn):
    try:
        created = signups.register_by_api(request, payload.dict(), at=timezone.now())
    except signups.SignupError as error:
        return _unprocessable(error.errors)
    except signups.SignupRateLimited:
        return Status(429, {"detail": "too many sign-ups; try again later"})
    except PermissionDenied:  # allauth's rate limits need the client's address
        return Status(403, {"detail": "the client's IP address cannot be determined"})
    return Status(201, {"id": created.pk, "detail": "verification e-mail sent"})
