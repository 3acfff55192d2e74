"""The body of a webhook: Standard Webhooks' envelope (``type``, ``timestamp``, ``data``).

``data`` always carries the event's id (also the ``webhook-id`` header), schema version,
the user's pseudonym and per-user sequence, and the record id; each type adds a few plain
fields (``Event.data``). Serialised once per event, compactly, with sorted keys, so every
attempt and every replay sends the same bytes. The OpenAPI document describes the same
shape (``webhooks.schemas``).
"""

import json

from .models import Event

SCHEMA_VERSION = 1


def event_payload(event: Event) -> dict:
    return {
        "type": event.type,
        "timestamp": event.occurred_at.isoformat().replace("+00:00", "Z"),
        "data": {
            **event.data,
            "event_id": str(event.id),
            "schema_version": event.schema_version,
            "subject": event.subject,
            "sequence": event.sequence,
            "record_id": event.record_id,
        },
    }


def event_body(event: Event) -> str:
    return json.dumps(event_payload(event), separators=(",", ":"), sort_keys=True)
