"""Fixtures for provisioning: subscription events, a real HTTP receiver, a signing secret."""

import base64
import json
import secrets
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.db import transaction
from standardwebhooks.webhooks import Webhook

from ringup.events.services import dispatch, emit

from ..events.conftest import redis_broker, start_worker  # noqa: F401 (fixtures)

AT = datetime(2025, 3, 1, 9, tzinfo=UTC)


def subscription_payload(customer_id=41, subscription_id=7, **subscription):
    """A subscription event's payload as billing emits it (the events contract)."""
    return {
        "customer": {
            "id": customer_id,
            "name": "ООО «Ромашка»",
            "email": "office@romashka.example",
            "phone": "+74951234567",
            "account": f"acc-{customer_id}",
            "language": "ru",
            "country": "RU",
        },
        "subscription": {
            "id": subscription_id,
            "plan": "office-pbx",
            "status": "trialing",
            "period": "monthly",
            "employees": 5,
            "numbers": 2,
            "options": ["call-recording", "crm-integration"],
            "traffic_package": None,
            "trial_ends_at": "2025-03-15T09:00:00+00:00",
            "started_at": "2025-03-01T09:00:00+00:00",
            "ended_at": None,
            **subscription,
        },
    }


@pytest.fixture
def happen():
    """``happen(kind, at=…, **subscription)``: emit a subscription event and dispatch it."""

    def emit_and_dispatch(
        kind, *, at=AT, customer_id=41, subscription_id=7, changes=None, **subscription
    ):
        payload = subscription_payload(customer_id, subscription_id, **subscription)
        if changes:
            payload["changes"] = changes
        with transaction.atomic():
            event = emit(
                kind,
                at=at,
                payload=payload,
                customer_id=customer_id,
                subscription_id=subscription_id,
            )
        assert dispatch(at=at)["done"] >= 1
        return event

    return emit_and_dispatch


class Receiver:
    """A PBX platform's webhook receiver on 127.0.0.1: verifies each request, answers
    what the test scripted (a status, or ``"hold"`` until released), and applies each
    webhook-id once, as the docs tell a receiver to."""

    def __init__(self, secret: str):
        self.secret = secret
        self.requests: list[dict] = []
        self.script: list = []
        self.accounts: dict[int, dict] = {}
        self.applied: set[str] = set()
        self.received = threading.Event()
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/ringup"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def _handler(self):
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                headers = {key.lower(): value for key, value in self.headers.items()}
                with receiver.lock:
                    receiver.requests.append({"headers": headers, "body": body})
                    action = receiver.script.pop(0) if receiver.script else 200
                receiver.received.set()
                if action == "hold":
                    receiver.release.wait(timeout=60)
                    action = 200
                if action == 200:
                    receiver.apply(headers, body)
                self.send_response(action)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(json.dumps({"status": action}).encode())

            def log_message(self, *args):
                pass

        return Handler

    def apply(self, headers: dict, body: bytes) -> None:
        message = Webhook(self.secret).verify(body, headers)
        with self.lock:
            if headers["webhook-id"] in self.applied:
                return
            self.applied.add(headers["webhook-id"])
            customer = message["customer"]["id"]
            if message["event"] == "account.create":
                assert customer not in self.accounts, "account created twice"
                self.accounts[customer] = {"status": "active"}
            else:
                self.accounts[customer]["last"] = message["event"]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


@pytest.fixture
def receiver(secret):
    server = Receiver(secret)
    yield server
    server.close()


@pytest.fixture
def webhook(settings, receiver, secret):
    """Provisioning configured to send to the receiver, with a 1 s timeout."""
    settings.RINGUP_PROVISIONING = f"webhook:{receiver.url}"
    settings.RINGUP_PROVISIONING_SECRET = secret
    settings.RINGUP_PROVISIONING_TIMEOUT = 1.0
    settings.ADMINS = [("Operations", "ops@ringup.example")]
    return receiver
