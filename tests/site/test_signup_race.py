"""Two sign-ups racing for one phone number: the database lets exactly one through."""

import threading

import pytest
from django.db import connection
from django.test import RequestFactory
from django.utils import timezone

from ringup.site import signup as signups
from ringup.site.models import Signup

from .helpers import PASSWORD


# SQLite's in-memory test database locks whole tables instead of waiting.
@pytest.mark.skipif(connection.vendor != "postgresql", reason="concurrent writers need PostgreSQL")
@pytest.mark.django_db(transaction=True)
def test_racing_signups_for_one_phone_give_one_trial(catalog):
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(n: int) -> None:
        request = RequestFactory().post("/api/v1/signup", REMOTE_ADDR=f"10.0.0.{n}")
        request.LANGUAGE_CODE = "en"
        start.wait(timeout=10)
        try:
            signups.register_by_api(
                request,
                {
                    "email": f"racer{n}@example.com",
                    "phone": "+79161234567",
                    "password": PASSWORD,
                    "plan": "office-pbx",
                },
                at=timezone.now(),
            )
            outcomes.append("created")
        except signups.SignupError as error:
            outcomes.append(f"refused:{','.join(error.errors)}")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(n,)) for n in (1, 2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["created", "refused:phone"]
    assert Signup.objects.count() == 1
