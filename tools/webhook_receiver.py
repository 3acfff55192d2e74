"""A minimal webhook receiver: verifies Standard Webhooks signatures, deduplicates, prints.

Usage (from the repository root, with the project's virtualenv)::

    .venv/bin/python tools/webhook_receiver.py --secret whsec_... [--port 8765]
        [--log var/webhooks-received.jsonl] [--quiet]

The secret is the one admin showed once when the subscriber was added (or set
``WEBHOOK_SECRET`` instead of ``--secret``). Register ``http://127.0.0.1:8765/`` as the
subscriber's URL; local settings allow loopback addresses, production refuses them.

What a real receiver must do, in order, and what this one shows:

1. Verify the signature over the raw body with ``standardwebhooks.Webhook(secret).verify``
   (it also refuses a timestamp more than five minutes off): answer 401 otherwise.
2. Deduplicate by ``webhook-id`` (the event id): delivery is at-least-once, so the same
   event can arrive twice (a retry after a lost answer, a replay from admin). A duplicate
   is answered 200 and not handled again. Here the handled ids are the lines of ``--log``
   (appended and flushed before answering), so they survive a restart.
3. Handle the event, then answer 2xx quickly. Events of one user arrive in ``sequence``
   order; a redirect or any non-2xx answer counts as a failure and is retried.

Only the standard library and ``standardwebhooks`` are needed.
"""

import argparse
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from standardwebhooks import Webhook
from standardwebhooks.webhooks import WebhookVerificationError

MAX_BODY = 64 * 1024


class Inbox:
    """Handled event ids (persisted in the log) and the handling itself, under one lock."""

    def __init__(self, log_path: Path | None, *, quiet: bool = False):
        self.lock = threading.Lock()
        self.seen: set[str] = set()
        self.duplicates = 0
        self.quiet = quiet
        self.log = None
        if log_path is not None:
            log_path.parent.mkdir(parents=True, exist_ok=True)
            if log_path.exists():
                with log_path.open() as existing:
                    self.seen = {
                        json.loads(line)["webhook_id"] for line in existing if line.strip()
                    }
            self.log = log_path.open("a", buffering=1)

    def handle(self, webhook_id: str, payload: dict) -> bool:
        """Handle once; False for a duplicate."""
        with self.lock:
            if webhook_id in self.seen:
                self.duplicates += 1
                return False
            if self.log is not None:
                self.log.write(json.dumps({"webhook_id": webhook_id, "payload": payload}) + "\n")
                self.log.flush()
            self.seen.add(webhook_id)
        if not self.quiet:
            data = payload.get("data", {})
            print(
                f"{payload.get('type')}  subject={data.get('subject', '')[:12]}… "
                f"seq={data.get('sequence')} record={data.get('record_id')} id={webhook_id}",
                flush=True,
            )
        return True


def handler_for(webhook: Webhook, inbox: Inbox):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection for many deliveries
        # Headers and body are two writes: without this, Nagle's algorithm and the
        # sender's delayed ACK stall every answer for ~40 ms.
        disable_nagle_algorithm = True

        def _answer(self, status: int, text: str = "") -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self._answer(413, "too large")
                return
            body = self.rfile.read(length)
            try:
                payload = webhook.verify(body, dict(self.headers.items()))
            except (WebhookVerificationError, ValueError):
                self._answer(401, "bad signature")
                return
            fresh = inbox.handle(self.headers["webhook-id"], payload)
            self._answer(200, "ok" if fresh else "duplicate")

        def log_message(self, format, *args):  # one line per event is printed by the inbox
            pass

    return Handler


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request, client_address):
        # A sender that hangs up (a worker killed mid-request) is routine, not a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def serve(*, secret: str, host: str, port: int, log_path: Path | None, quiet: bool) -> None:
    inbox = Inbox(log_path, quiet=quiet)
    server = Server((host, port), handler_for(Webhook(secret), inbox))
    print(
        f"listening on http://{host}:{server.server_port}/ ({len(inbox.seen)} ids already handled)",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        print(
            f"stopped; {len(inbox.seen)} events handled, {inbox.duplicates} duplicates ignored",
            flush=True,
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--secret", default=os.environ.get("WEBHOOK_SECRET", ""))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--log", type=Path, default=None, help="JSON lines of handled events")
    parser.add_argument("--quiet", action="store_true", help="do not print each event")
    args = parser.parse_args(argv)
    if not args.secret.startswith("whsec_"):
        parser.error("give the subscriber's secret (whsec_...) with --secret or WEBHOOK_SECRET")
    serve(secret=args.secret, host=args.host, port=args.port, log_path=args.log, quiet=args.quiet)
    return 0


if __name__ == "__main__":
    sys.exit(main())
