import secrets
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from http.server import ThreadingHTTPServer

import pytest
import time_machine
from django.utils import timezone
from standardwebhooks import Webhook

from tests.consent.factories import PolicyFactory
from tests.factories import settings_decision
from tools.webhook_receiver import Inbox, handler_for
from webhooks.models import Event, EventType
from webhooks.services import subscriber_create


@dataclass
class Receiver:
    """A local receiver (the documented one's handler) whose answer a test can change."""

    url: str
    inbox: Inbox
    requests: list = field(default_factory=list)  # (headers, body) of every POST
    answer: tuple | None = None  # (status, headers, body) to answer instead of handling
    fails: object = None  # a callable: True answers this request with a 503


def _receiver_handler(webhook: Webhook, receiver: Receiver):
    base = handler_for(webhook, receiver.inbox)

    class Handler(base):
        def do_POST(self):
            if receiver.fails is not None and receiver.fails():
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                self.send_response(503)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            if receiver.answer is None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append((dict(self.headers.items()), body))
                stream, self.rfile = self.rfile, _Replay(body)
                try:
                    return super().do_POST()
                finally:
                    self.rfile = stream
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            status, headers, body = receiver.answer
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


class _Replay:
    def __init__(self, body: bytes):
        self.body = body

    def read(self, n=-1):
        return self.body


@pytest.fixture
def start_receiver():
    servers = []

    def start(secret: str) -> Receiver:
        receiver = Receiver(url="", inbox=Inbox(None, quiet=True))
        server = ThreadingHTTPServer(("127.0.0.1", 0), _receiver_handler(Webhook(secret), receiver))
        server.daemon_threads = True
        server.handle_error = lambda request, address: None  # a client hanging up is fine
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        receiver.url = f"http://127.0.0.1:{server.server_port}/hooks"
        return receiver

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.fixture
def subscribed(db, start_receiver):
    """A subscriber to every event type and its running receiver."""

    def make(name: str = "warehouse", event_types=None):
        from webhooks.models import Subscriber

        subscriber, secret = subscriber_create(
            name=name,
            url="http://127.0.0.1:9/placeholder",
            event_types=event_types or EventType.values,
        )
        receiver = start_receiver(secret)
        Subscriber.objects.filter(pk=subscriber.pk).update(url=receiver.url)
        subscriber.refresh_from_db()
        return subscriber, secret, receiver

    return make


@pytest.fixture
def clock():
    """Frozen time that moves only when told (each step its own instant)."""
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db, clock):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def decide(policy, clock):
    """Record a decision through the consent service, a second after the last step."""

    def record(user, choice: str):
        clock.shift(timedelta(seconds=1))
        return settings_decision(user, policy, choice)

    return record


def events_of(event_type: str, **filters):
    return list(Event.objects.filter(type=event_type, **filters).order_by("sequence"))


def emit(user, event_type: str = EventType.CONSENT_DECIDED, record_id=None) -> Event:
    """One committed outbox event for ``user``."""
    from webhooks.services import event_record

    return event_record(
        type=event_type, user_id=user.pk, record_id=record_id or secrets.token_hex(8)
    )


@pytest.fixture
def privacy_officer(db):
    from django.contrib.auth.models import Group

    from accounts.roles import PRIVACY_OFFICER
    from tests.factories import UserFactory

    officer = UserFactory(email="privacy.officer@example.com", is_staff=True)
    officer.groups.add(Group.objects.get(name=PRIVACY_OFFICER))
    return officer
