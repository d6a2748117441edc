"""Where operations go: one interface, chosen by ``RINGUP_PROVISIONING``.

* ``demo`` (default): the built-in simulated PBX, accounts kept in ``DemoPbxAccount``;
* ``webhook:<url>``: a JSON POST signed per Standard Webhooks with
  ``RINGUP_PROVISIONING_SECRET`` (docs/provisioning.md).

An adapter never raises for a failed delivery: it answers an :class:`Outcome`, and the
delivery service decides about retries. Every method may be called again with the same
operation (a retry after a lost answer), so it must be idempotent by ``webhook_id``.
"""

import json
import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import UTC, datetime

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from standardwebhooks.webhooks import Webhook

from .models import DemoPbxAccount, Operation, WebhookEndpoint

ANSWER_CHARS = 2000
USER_AGENT = "Ringup-Provisioning/1"


@dataclass(frozen=True)
class Outcome:
    """What one attempt gave: ``delivered`` only when the platform accepted it; ``gone``
    when the endpoint answered 410 and must not be called again until re-enabled."""

    delivered: bool
    http_status: int | None = None
    answer: str = ""
    error: str = ""
    gone: bool = False


class Adapter(ABC):
    """A PBX platform: create, update, suspend, resume and delete an account."""

    def available(self) -> bool:
        """False while operations must wait (a disabled endpoint)."""
        return True

    def perform(self, operation: Operation) -> Outcome:
        method = {
            Operation.Kind.CREATE: self.create,
            Operation.Kind.UPDATE: self.update,
            Operation.Kind.SUSPEND: self.suspend,
            Operation.Kind.RESUME: self.resume,
            Operation.Kind.DELETE: self.delete,
        }[Operation.Kind(operation.kind)]
        return method(operation.webhook_id, operation.body)

    @abstractmethod
    def create(self, webhook_id: str, body: dict) -> Outcome: ...

    @abstractmethod
    def update(self, webhook_id: str, body: dict) -> Outcome:
        """Plan, options, employees (extensions), numbers or limits changed."""

    @abstractmethod
    def suspend(self, webhook_id: str, body: dict) -> Outcome: ...

    @abstractmethod
    def resume(self, webhook_id: str, body: dict) -> Outcome: ...

    @abstractmethod
    def delete(self, webhook_id: str, body: dict) -> Outcome: ...


class WebhookAdapter(Adapter):
    """POSTs the operation's body to ``url``, signed (``webhook-id``, ``webhook-timestamp``,
    ``webhook-signature``). 2xx is delivered, 410 disables the endpoint, anything else
    (another status, a timeout, a refused connection) is a failure to retry."""

    def __init__(self, url: str, secret: str, timeout: float):
        if not url.startswith(("http://", "https://")):
            raise ImproperlyConfigured(f"RINGUP_PROVISIONING webhook URL {url!r} is not http(s)")
        if not secret.startswith("whsec_"):
            raise ImproperlyConfigured("RINGUP_PROVISIONING_SECRET must be set to whsec_…")
        self.url, self.timeout = url, timeout
        self.signer = Webhook(secret)

    def endpoint(self) -> WebhookEndpoint:
        WebhookEndpoint.objects.bulk_create(
            [WebhookEndpoint(url=self.url, created_at=timezone.now())], ignore_conflicts=True
        )
        return WebhookEndpoint.objects.get(url=self.url)

    def available(self) -> bool:
        return not self.endpoint().is_disabled

    def post(self, webhook_id: str, body: dict) -> Outcome:
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        # The receiver checks the timestamp against its own clock: the real time it is sent.
        sent = datetime.fromtimestamp(math.floor(timezone.now().timestamp()), UTC)
        headers = {
            "content-type": "application/json",
            "user-agent": USER_AGENT,
            "webhook-id": webhook_id,
            "webhook-timestamp": str(int(sent.timestamp())),
            "webhook-signature": self.signer.sign(webhook_id, sent, data),
        }
        try:
            response = requests.post(
                self.url,
                data=data.encode(),
                headers=headers,
                timeout=self.timeout,
                allow_redirects=False,
            )
        except requests.RequestException as error:
            return Outcome(delivered=False, error=f"{type(error).__name__}: {error}"[:500])
        answer = response.text[:ANSWER_CHARS]
        status = response.status_code
        if 200 <= status < 300:
            return Outcome(delivered=True, http_status=status, answer=answer)
        return Outcome(
            delivered=False,
            http_status=status,
            answer=answer,
            error=f"HTTP {status}",
            gone=status == 410,
        )

    create = update = suspend = resume = delete = post


class DemoAdapter(Adapter):
    """The simulated PBX: an account with an extension range, a SIP login, numbers and
    the enabled options, stored in ``DemoPbxAccount`` (visible in the back office)."""

    def create(self, webhook_id: str, body: dict) -> Outcome:
        return self._apply(webhook_id, body, status=DemoPbxAccount.Status.ACTIVE)

    def update(self, webhook_id: str, body: dict) -> Outcome:
        return self._apply(webhook_id, body, status=None)

    def suspend(self, webhook_id: str, body: dict) -> Outcome:
        return self._status(webhook_id, body, DemoPbxAccount.Status.SUSPENDED)

    def resume(self, webhook_id: str, body: dict) -> Outcome:
        return self._status(webhook_id, body, DemoPbxAccount.Status.ACTIVE)

    def delete(self, webhook_id: str, body: dict) -> Outcome:
        return self._status(webhook_id, body, DemoPbxAccount.Status.DELETED)

    def _apply(self, webhook_id: str, body: dict, status: str | None) -> Outcome:
        customer, subscription = body["customer"], body["subscription"]
        employees = max(int(subscription.get("employees") or 1), 1)
        values = {
            "name": customer.get("name") or f"Customer {customer['id']}",
            "plan": subscription.get("plan") or "",
            "extension_first": 101,
            "extension_last": 100 + employees,
            "numbers": demo_numbers(customer["id"], subscription.get("numbers")),
            "features": sorted(subscription.get("options") or []),
            "limits": body.get("limits") or {},
            "last_webhook_id": webhook_id,
            "updated_at": timezone.now(),
        }
        if status is not None:
            values["status"] = status
        with transaction.atomic():
            DemoPbxAccount.objects.update_or_create(
                customer_id=customer["id"],
                defaults=values,
                create_defaults={
                    **values,
                    "sip_login": f"ringup-{customer['id']}",
                    "status": DemoPbxAccount.Status.ACTIVE,
                },
            )
        return Outcome(delivered=True, answer=f"applied {webhook_id}")

    def _status(self, webhook_id: str, body: dict, status: str) -> Outcome:
        updated = DemoPbxAccount.objects.filter(customer_id=body["customer"]["id"]).update(
            status=status, last_webhook_id=webhook_id, updated_at=timezone.now()
        )
        if not updated:
            return Outcome(delivered=False, error="no such account on the demo PBX")
        return Outcome(delivered=True, answer=f"{status} by {webhook_id}")


def demo_numbers(customer_id: int, numbers) -> list[str]:
    """The demo PBX's phone numbers: a list as given, or ``n`` made-up Moscow numbers
    (+7 495 …) unique per customer."""
    if isinstance(numbers, list):
        return [str(number) for number in numbers]
    count = int(numbers or 0)
    return [f"+7495{customer_id % 100_000:05d}{index:02d}" for index in range(1, count + 1)]


def configured_adapter() -> Adapter:
    """The adapter ``RINGUP_PROVISIONING`` names; raises ``ImproperlyConfigured`` for an
    unknown value or a webhook without a secret."""
    spec = settings.RINGUP_PROVISIONING.strip()
    if spec == "demo":
        return DemoAdapter()
    if spec.startswith("webhook:"):
        return WebhookAdapter(
            spec.removeprefix("webhook:"),
            settings.RINGUP_PROVISIONING_SECRET,
            settings.RINGUP_PROVISIONING_TIMEOUT,
        )
    raise ImproperlyConfigured(
        f"RINGUP_PROVISIONING={spec!r}: use 'demo' or 'webhook:https://…' (docs/provisioning.md)"
    )
