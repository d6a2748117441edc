"""A bearer API key opens the staff billing API on reads and writes, with no CSRF token;
a bad, revoked or expired key, or one whose owner is no longer active staff, is 401."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from ringup.apikeys import services
from ringup.apikeys.models import ApiKey
from ringup.billing.models import Payment

from .conftest import CREATED, bearer

pytestmark = pytest.mark.django_db

PAYMENT = {"amount": "1490.00", "reference": "п/п 118", "note": "from 1C"}


def pay(client, customer, **headers):
    return client.post(
        "/api/v1/payments",
        {**PAYMENT, "customer": customer.pk},
        content_type="application/json",
        **headers,
    )


def test_a_key_reads_and_writes_without_a_csrf_token(strict_client, token, customer):
    balance = strict_client.get(f"/api/v1/customers/{customer.pk}/balance", **bearer(token))
    assert balance.status_code == 200, balance.content
    assert balance.json()["balance"] == "0.00"

    paid = pay(strict_client, customer, **bearer(token))
    assert paid.status_code == 201, paid.content
    assert paid.json()["balance"] == "-1490.00"
    assert Payment.objects.get().reference == "п/п 118"
    assert not strict_client.cookies


def test_the_session_still_works_and_still_needs_csrf(strict_client, owner, customer):
    strict_client.force_login(owner)
    assert strict_client.get("/api/v1/invoices").status_code == 200
    assert pay(strict_client, customer).status_code == 403
    assert not Payment.objects.exists()


def test_no_credentials_at_all_is_401_on_reads_and_writes(strict_client, customer):
    assert strict_client.get("/api/v1/invoices").status_code == 401
    # Not the session's CSRF 403: a key-less integration is told to authenticate.
    assert pay(strict_client, customer).status_code == 401


def test_the_request_acts_as_the_keys_owner(rf, issued, owner):
    from ringup.apikeys.auth import ApiKeyAuth

    key, token = issued
    request = rf.get("/api/v1/invoices", **bearer(token))
    assert ApiKeyAuth()(request) == owner
    assert request.user == owner
    assert request.api_key == key


def _revoke(key):
    services.revoke(key, at=CREATED + timedelta(days=1))


def _expire(key):
    key.expires_at = CREATED + timedelta(days=1)
    key.save()


def _deactivate(key):
    key.owner.is_active = False
    key.owner.save()


def _demote(key):
    key.owner.is_staff = False
    key.owner.save()


@pytest.mark.parametrize("spoil", [_revoke, _expire, _deactivate, _demote])
def test_a_key_that_no_longer_works_is_401(strict_client, issued, customer, spoil):
    key, token = issued
    url = f"/api/v1/customers/{customer.pk}/balance"
    assert strict_client.get(url, **bearer(token)).status_code == 200
    spoil(key)
    assert strict_client.get(url, **bearer(token)).status_code == 401
    assert pay(strict_client, customer, **bearer(token)).status_code == 401
    assert not Payment.objects.exists()


def test_expiry_is_an_instant(client, issued, time_machine):
    key, token = issued
    key.expires_at = CREATED + timedelta(days=30)
    key.save()
    time_machine.move_to(key.expires_at - timedelta(seconds=1), tick=False)
    assert client.get("/api/v1/invoices", **bearer(token)).status_code == 200
    time_machine.move_to(key.expires_at, tick=False)
    assert client.get("/api/v1/invoices", **bearer(token)).status_code == 401


def test_revoking_twice_keeps_the_first_date(issued):
    key, _ = issued
    assert services.revoke(key, at=CREATED + timedelta(days=1)) is True
    assert services.revoke(key, at=CREATED + timedelta(days=2)) is False
    key.refresh_from_db()
    assert key.revoked_at == CREATED + timedelta(days=1)


def _garbage(token: str) -> list[str]:
    _, prefix, secret = token.split("_", 2)
    return [
        "Bearer",
        "Bearer ",
        "Bearer rk_",
        "Bearer rk__",
        f"Bearer rk_{prefix}",
        f"Bearer rk_{prefix}_",
        f"Bearer rk_{prefix}_{secret[:-1]}",  # one character short
        f"Bearer rk_{prefix}_{secret}x",
        f"Bearer RK_{prefix}_{secret}",
        f"Bearer rk_{prefix.upper()}_{secret}",
        f"Bearer rk_00000000_{secret}",
        f"Bearer {token} {token}",
        "Bearer rk_ключ_секрет",
        "Bearer rk_\x00\x01\x02\x03\x04\x05\x06\x07_x",
        "Bearer " + "rk_" + "a" * 100_000,
        "Bearer %s" % ("_" * 50),
    ]


def test_garbage_tokens_are_401_never_500(client, token):
    for header in _garbage(token):
        response = client.get("/api/v1/invoices", HTTP_AUTHORIZATION=header)
        assert response.status_code == 401, header[:40]


def test_another_scheme_falls_back_to_the_session(client, owner, token):
    basic = {"HTTP_AUTHORIZATION": "Basic aW50ZWdyYXRpb25zOnB3LTEyMzQ1IQ=="}
    assert client.get("/api/v1/invoices", **basic).status_code == 401
    client.force_login(owner)
    assert client.get("/api/v1/invoices", **basic).status_code == 200


def test_a_bad_key_is_401_even_with_a_staff_session(client, owner, token):
    # What the request presents is what it is judged by: no silent fallback.
    client.force_login(owner)
    response = client.get("/api/v1/invoices", HTTP_AUTHORIZATION=f"Bearer {token}x")
    assert response.status_code == 401


def test_the_token_is_not_stored(issued):
    key, token = issued
    secret = token.split("_", 2)[2]
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ApiKey._meta.db_table}")
        rows = cursor.fetchall()
    stored = " ".join(str(value) for row in rows for value in row)
    assert key.prefix in stored
    assert secret not in stored and token not in stored
    # sha256("rk_<prefix>_<secret>") in hex: 64 characters, no trace of the secret.
    assert len(key.token_hash) == 64 and key.token_hash == services.hash_token(token)


def _updates_of_keys(queries) -> int:
    return sum(
        1
        for query in queries
        if query["sql"].startswith("UPDATE") and ApiKey._meta.db_table in query["sql"]
    )


def test_last_used_is_written_at_most_once_a_minute(client, issued, time_machine):
    """Requests at 12:00:00, 12:00:30, 12:00:59 and 12:01:00: the first writes
    12:00:00, the next two write nothing (less than a minute later), the last writes
    12:01:00 (a full minute later). Each write is one UPDATE."""
    key, token = issued
    first = CREATED.replace(hour=12)
    expected = [
        (0, 1, first),
        (30, 0, first),
        (59, 0, first),
        (60, 1, first + timedelta(minutes=1)),
    ]
    for seconds, updates, last_used in expected:
        time_machine.move_to(first + timedelta(seconds=seconds), tick=False)
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/invoices", **bearer(token)).status_code == 200
        assert _updates_of_keys(queries) == updates, seconds
        key.refresh_from_db()
        assert key.last_used_at == last_used


def test_a_late_writer_does_not_set_last_used_back(issued):
    """Two requests read the key before either wrote: the one that writes second finds
    the row already fresh and changes nothing."""
    key, token = issued
    at = CREATED + timedelta(hours=1)
    services.authenticate(token, at=at + timedelta(seconds=5))
    stale = ApiKey.objects.get(pk=key.pk)
    stale.last_used_at = None
    services._touch(stale, at=at)
    key.refresh_from_db()
    assert key.last_used_at == at + timedelta(seconds=5)


def test_the_openapi_document_offers_both_schemes(client):
    document = client.get("/api/v1/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["ApiKeyAuth"]["type"] == "http"
    assert schemes["ApiKeyAuth"]["scheme"] == "bearer"
    assert schemes["SessionAuthIsStaff"] == {"type": "apiKey", "in": "cookie", "name": "sessionid"}
    operation = document["paths"]["/api/v1/payments"]["post"]
    assert operation["security"] == [{"ApiKeyAuth": []}, {"SessionAuthIsStaff": []}]
    assert "security" not in document["paths"]["/api/v1/catalog"]["get"]
