"""Reads: where each record's event reached, and which records a system has not acknowledged."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from .models import Delivery, DeliveryStatus, Event, Subscriber


@dataclass(frozen=True)
class Propagation:
    """One subscriber's view of one event: what happened to its delivery."""

    subscriber: Subscriber
    status: str  # a DeliveryStatus, or NOT_RELAYED / NOT_SUBSCRIBED / NO_EVENT
    event_id: str | None = None  # the ``webhook-id`` a receiver logged
    delivered_at: datetime | None = None
    response_status: int | None = None
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None
    dead_lettered_at: datetime | None = None


NOT_SUBSCRIBED = "not subscribed"
NOT_RELAYED = "pending"
# The record has no event at all: it was made before the outbox existed, so no system was told.
NO_EVENT = "no_event"

# Ids per query: well under SQLite's bound on query parameters.
_IDS_PER_QUERY = 500


@dataclass(frozen=True)
class RecordPropagation:
    """Where one record's event reached: its event ids (the ``webhook-id`` a receiver logs;
    none for a record made before the outbox) and one row per subscriber."""

    event_ids: list[str]
    rows: list[Propagation]


def record_propagation(*, event_type: str, record_id: str) -> list[Propagation]:
    """For each subscriber: delivered (when, code) / pending / failed / dead-lettered."""
    return records_propagation(event_type=event_type, record_ids=[record_id])[record_id].rows


def records_propagation(*, event_type: str, record_ids: list[str]) -> dict[str, RecordPropagation]:
    """``record_propagation`` for many records at once (an evidence bundle): three queries per
    500 records, not three per record."""
    subscribers = list(Subscriber.objects.order_by("name"))
    result = {}
    for start in range(0, len(record_ids), _IDS_PER_QUERY):
        chunk = record_ids[start : start + _IDS_PER_QUERY]
        events_by_record: dict[str, list[Event]] = {}
        for event in Event.objects.filter(type=event_type, record_id__in=chunk).order_by(
            "occurred_at", "id"
        ):
            events_by_record.setdefault(event.record_id, []).append(event)
        deliveries = {
            (d.event.record_id, d.subscriber_id): d
            for d in Delivery.objects.filter(event__type=event_type, event__record_id__in=chunk)
            .select_related("event")
            .order_by("created_at")
        }
        for record_id in chunk:
            events = events_by_record.get(record_id, [])
            result[record_id] = RecordPropagation(
                event_ids=[str(e.pk) for e in events],
                rows=[
                    _propagation(
                        subscriber,
                        event_type=event_type,
                        events=events,
                        delivery=deliveries.get((record_id, subscriber.pk)),
                    )
                    for subscriber in subscribers
                ],
            )
    return result


def _propagation(
    subscriber: Subscriber, *, event_type: str, events: list[Event], delivery: Delivery | None
) -> Propagation:
    if delivery is not None:
        return Propagation(
            subscriber=subscriber,
            status=delivery.status,
            event_id=str(delivery.event_id),
            delivered_at=delivery.delivered_at,
            response_status=delivery.response_status,
            attempts=delivery.attempts,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at,
            dead_lettered_at=delivery.dead_lettered_at,
        )
    if not subscriber.wants(event_type):
        return Propagation(subscriber=subscriber, status=NOT_SUBSCRIBED)
    if not events:
        return Propagation(subscriber=subscriber, status=NO_EVENT)
    unrelayed = [e for e in events if e.fanned_out_at is None]
    if len(unrelayed) == len(events):
        return Propagation(subscriber=subscriber, status=NOT_RELAYED, event_id=str(unrelayed[0].pk))
    # Relayed before the subscriber existed (or with other types chosen then).
    return Propagation(subscriber=subscriber, status=NOT_SUBSCRIBED)


def record_acknowledged_q(*, subscriber_id: int, event_type: str) -> Exists:
    """``Exists``: the subscriber acknowledged (2xx) the event about the outer row (UUID pk)."""
    return Exists(
        Delivery.objects.filter(
            subscriber_id=subscriber_id,
            status=DeliveryStatus.DELIVERED,
            event__type=event_type,
            event__record_uuid=OuterRef("pk"),
        )
    )
