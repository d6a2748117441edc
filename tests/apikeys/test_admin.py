"""Back office: a new key's token is shown once, in a message; the list shows the
prefix, owner and last use; "revoke" stops a key; the secret cannot be edited."""

import pytest

from ringup.apikeys.models import ApiKey

from .conftest import bearer

pytestmark = pytest.mark.django_db

ADD = "/admin/apikeys/apikey/add/"
LIST = "/admin/apikeys/apikey/"


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw-12345!")
    client.force_login(admin)
    return client


def test_the_token_is_shown_once_after_saving(admin_client, owner, client):
    form = {"name": "CRM", "owner": owner.pk, "expires_at_0": "", "expires_at_1": ""}
    response = admin_client.post(ADD, form, follow=True)
    assert response.status_code == 200
    key = ApiKey.objects.get()
    page = response.content.decode()
    start = page.index(f"rk_{key.prefix}_")
    token = page[start:].split(".", 1)[0].split()[0]
    assert page.count(token) == 1
    assert "not shown again" in page
    assert admin_client.get(LIST).content.decode().count(token) == 0
    assert token not in admin_client.get(f"{LIST}{key.pk}/change/").content.decode()
    assert admin_client.get("/api/v1/invoices", **bearer(token)).status_code == 200


def test_only_active_staff_can_own_a_key(admin_client, owner, django_user_model):
    customer = django_user_model.objects.create_user("customer", "c@example.com", "pw-12345!")
    page = admin_client.get(ADD).content.decode()
    assert f'value="{owner.pk}"' in page and f'value="{customer.pk}"' not in page
    form = {"name": "CRM", "owner": customer.pk, "expires_at_0": "", "expires_at_1": ""}
    response = admin_client.post(ADD, form)
    assert response.status_code == 200  # the form again, with the error
    assert not ApiKey.objects.exists()


def test_the_list_shows_prefix_owner_and_last_use(admin_client, issued, client):
    key, token = issued
    client.get("/api/v1/invoices", **bearer(token))
    page = admin_client.get(LIST).content.decode()
    assert f"rk_{key.prefix}_…" in page
    assert "integrations" in page and "CRM" in page and "active" in page
    assert token not in page and key.token_hash not in page


def test_revoke_action(admin_client, issued, client):
    key, token = issued
    response = admin_client.post(
        LIST, {"action": "revoke", "_selected_action": [key.pk]}, follow=True
    )
    assert "1 API key(s) revoked." in response.content.decode()
    key.refresh_from_db()
    assert key.revoked_at is not None
    assert client.get("/api/v1/invoices", **bearer(token)).status_code == 401
    assert "revoked" in admin_client.get(LIST).content.decode()


def test_editing_changes_only_the_name(admin_client, issued, django_user_model, client):
    key, token = issued
    other = django_user_model.objects.create_user("other", "o@example.com", is_staff=True)
    page = admin_client.get(f"{LIST}{key.pk}/change/").content.decode()
    assert 'name="token_hash"' not in page and 'name="prefix"' not in page
    form = {
        "name": "CRM (Bitrix24)",
        "owner": other.pk,
        "token_hash": "0" * 64,
        "prefix": "00000000",
        "revoked_at": "2026-01-01",
    }
    admin_client.post(f"{LIST}{key.pk}/change/", form)
    fresh = ApiKey.objects.get(pk=key.pk)
    assert fresh.name == "CRM (Bitrix24)"
    assert (fresh.owner, fresh.token_hash, fresh.prefix, fresh.revoked_at) == (
        key.owner,
        key.token_hash,
        key.prefix,
        None,
    )
    assert client.get("/api/v1/invoices", **bearer(token)).status_code == 200


def test_keys_are_revoked_not_deleted(admin_client, issued):
    key, _ = issued
    assert admin_client.get(f"{LIST}{key.pk}/delete/").status_code == 403
