"""Reads: where each record's event reached, and which records a system has not acknowledged."""

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Exists, OuterRef

from .models import Delivery, DeliveryStatus, Event, Subscriber


@dataclass(frozen=True)
class Propagation:
    """One subscriber's view of one event: what happened to its delivery."""

    subscriber: Subscriber
    status: str  # a DeliveryStatus, or "not relayed" / "not subscribed"
    delivered_at: datetime | None = None
    response_status: int | None = None
    attempts: int = 0
    last_error: str = ""
    next_attempt_at: datetime | None = None


NOT_SUBSCRIBED = "not subscribed"
NOT_RELAYED = "pending"


def record_propagation(*, event_type: str, record_id: str) -> list[Propagation]:
    """For each subscriber: delivered (when, code) / pending / failed / dead-lettered."""
    events = list(Event.objects.filter(type=event_type, record_id=record_id))
    deliveries = {
        d.subscriber_id: d for d in Delivery.objects.filter(event__in=events).order_by("created_at")
    }
    rows = []
    for subscriber in Subscriber.objects.order_by("name"):
        delivery = deliveries.get(subscriber.pk)
        if delivery is not None:
            rows.append(
                Propagation(
                    subscriber=subscriber,
                    status=delivery.status,
                    delivered_at=delivery.delivered_at,
                    response_status=delivery.response_status,
                    attempts=delivery.attempts,
                    last_error=delivery.last_error,
                    next_attempt_at=delivery.next_attempt_at,
                )
            )
        elif not subscriber.wants(event_type):
            rows.append(Propagation(subscriber=subscriber, status=NOT_SUBSCRIBED))
        elif events and all(e.fanned_out_at is None for e in events):
            rows.append(Propagation(subscriber=subscriber, status=NOT_RELAYED))
        else:
            # Relayed before the subscriber existed (or with other types chosen then).
            rows.append(Propagation(subscriber=subscriber, status=NOT_SUBSCRIBED))
    return rows


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
