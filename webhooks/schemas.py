"""The event payloads as pydantic models: documented in the OpenAPI document's ``webhooks``
section (OpenAPI 3.1), and checked against real payloads by the tests."""

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field

from .models import EventType


class EventData(BaseModel):
    event_id: UUID = Field(description="Also the webhook-id header: deduplicate by it.")
    schema_version: int = Field(description="Changes only when a field changes meaning.")
    subject: str = Field(
        description="The person's pseudonym (keyed hash), the same in every event."
    )
    sequence: int = Field(
        description="Order of this person's events, from 1; may skip numbers (types not subscribed)."
    )
    record_id: str = Field(description="The id of the record the event reports.")


class ConsentDecidedData(EventData):
    choice: Literal["opt_in", "opt_out"]
    previous_choice: Literal["opt_in", "opt_out"] | None = Field(
        description="The choice before, under the same policy; opt_in -> opt_out is a withdrawal."
    )
    policy_version: str
    surface: str
    decided_at: datetime


class ConsentLockoutData(EventData):
    policy_version: str
    locked_at: datetime = Field(description="The decision deadline the person let pass.")


class ConversationDeletedData(EventData):
    reason: Literal["user", "retention"] = Field(
        description="Deleted by its owner, or by the retention rule."
    )
    held: bool = Field(
        description="A legal hold keeps the content at the source until it ends; stop using it now."
    )


class AccountDeletedData(EventData):
    conversations_deleted: int
    conversations_held: int


class HoldPlacedData(EventData):
    scope: Literal["conversation", "account"]
    conversation_id: int | None
    until: datetime | None


class HoldReleasedData(EventData):
    scope: Literal["conversation", "account"]
    conversation_id: int | None


class SnapshotCreatedData(EventData):
    snapshot_key: str
    policy_version: str
    conversations: int = Field(description="How many of this person's conversations went in.")


DATA_SCHEMAS: dict[str, type[EventData]] = {
    EventType.CONSENT_DECIDED: ConsentDecidedData,
    EventType.CONSENT_LOCKOUT: ConsentLockoutData,
    EventType.CONVERSATION_DELETED: ConversationDeletedData,
    EventType.ACCOUNT_DELETED: AccountDeletedData,
    EventType.HOLD_PLACED: HoldPlacedData,
    EventType.HOLD_RELEASED: HoldReleasedData,
    EventType.SNAPSHOT_CREATED: SnapshotCreatedData,
}


def envelope_model(event_type: str) -> type[BaseModel]:
    """The whole body of one event type: Standard Webhooks' ``type``, ``timestamp``, ``data``."""
    name = "".join(part.title() for part in event_type.replace(".", "_").split("_")) + "Event"
    return type(
        name,
        (BaseModel,),
        {
            "__annotations__": {
                "type": Literal[event_type],  # type: ignore[valid-type]
                "timestamp": datetime,
                "data": DATA_SCHEMAS[event_type],
            },
            "__module__": __name__,
        },
    )


ENVELOPES: dict[str, type[BaseModel]] = {t: envelope_model(t) for t in DATA_SCHEMAS}

_HEADERS = [
    ("webhook-id", "The event id: the idempotency key."),
    ("webhook-timestamp", "Unix seconds of this attempt; refuse it if more than 5 minutes off."),
    (
        "webhook-signature",
        "v1,<base64 HMAC-SHA256 of id.timestamp.body> under the subscriber's secret.",
    ),
]


def openapi_add_webhooks(schema: dict) -> dict:
    """Add one OpenAPI 3.1 ``webhooks`` entry per event type, with its body schema."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    webhooks = schema.setdefault("webhooks", {})
    for event_type, model in ENVELOPES.items():
        body = model.model_json_schema(ref_template="#/components/schemas/{model}")
        components.update(body.pop("$defs", {}))
        components[model.__name__] = body
        webhooks[event_type] = {
            "post": {
                "summary": EventType(event_type).label,
                "description": (
                    "Sent to each subscriber that chose this type, signed per Standard Webhooks. "
                    "Answer 2xx once handled; anything else (a redirect included) is retried "
                    "with backoff, and a person's later events wait for this one."
                ),
                "parameters": [
                    {
                        "name": name,
                        "in": "header",
                        "required": True,
                        "description": text,
                        "schema": {"type": "string"},
                    }
                    for name, text in _HEADERS
                ],
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {"$ref": f"#/components/schemas/{model.__name__}"}
                        }
                    },
                },
                "responses": {"2XX": {"description": "Handled (or a duplicate, ignored)."}},
                "security": [],
            }
        }
    return schema
