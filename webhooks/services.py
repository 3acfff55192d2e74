"""Writes: the outbox (called by the services whose changes it reports), subscribers, replay.

``event_record`` must run inside the transaction of the change it reports (DESIGN §3:
the transactional outbox): it writes the event row there, and asks for delivery only
once that transaction commits. Delivery itself runs in Celery workers (``webhooks.delivery``),
never in the web request.
"""

import logging
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime

from django.conf import settings
from django.db import connection, transaction
from django.db.transaction import TransactionManagementError
from django.utils import timezone

from accounts.pseudonyms import user_pseudonym
from config.broker import CoalescedEnqueue
from config.statements import Statement, row_insert

from . import tasks
from .addresses import endpoint_resolve
from .models import (
    OPEN_STATUSES,
    Delivery,
    DeliveryStatus,
    Event,
    SubjectSequence,
    Subscriber,
    SubscriberStatus,
)
from .payloads import SCHEMA_VERSION
from .signing import secret_encrypt, secret_generate

logger = logging.getLogger(__name__)

SUBJECT_PURPOSE = "webhooks.subject"


def subject_for(user_id: int) -> str:
    """The user's pseudonym in events: a keyed hash, stable, one key for every subscriber."""
    return user_pseudonym(
        user_id, purpose=SUBJECT_PURPOSE, secret=settings.WEBHOOKS_PSEUDONYM_KEY or None
    )


@dataclass(frozen=True)
class EventDraft:
    """One change to report: what happened, to whom, which record, and a few plain fields."""

    type: str
    user_id: int
    record_id: str | int | uuid.UUID
    occurred_at: datetime | None = None
    data: dict = field(default_factory=dict)


# Every decision commits an event: one enqueue per process and window serves them all.
dispatch_requests = CoalescedEnqueue(
    lambda: tasks.webhooks_dispatch,
    window=lambda: settings.WEBHOOKS_DISPATCH_WINDOW_SECONDS,
)


def _dispatch_enqueue() -> None:
    # After commit; a broker outage is logged by task_enqueue and the minute sweep delivers.
    dispatch_requests.request()


def _sequences_claim(counts: Counter) -> Statement:
    """Reserve ``counts[subject]`` sequence numbers per subject: one upsert for all subjects.

    In subject order (a consistent lock order between transactions that report on several
    users). The row lock is held until commit, so a user's next event waits for this
    transaction: sequence order is commit order.
    """
    subjects = sorted(counts)
    table = connection.ops.quote_name(SubjectSequence._meta.db_table)
    values = ", ".join(["(%s, %s)"] * len(subjects))
    return Statement(
        f"INSERT INTO {table} (subject, last) VALUES {values} "
        f"ON CONFLICT (subject) DO UPDATE SET last = {table}.last + excluded.last",
        tuple(value for subject in subjects for value in (subject, counts[subject])),
    )


def _sequences_allocate(counts: Counter) -> dict[str, int]:
    """``_sequences_claim``, run now: the last number reserved for each subject."""
    claim = _sequences_claim(counts)
    with connection.cursor() as cursor:
        cursor.execute(f"{claim.sql} RETURNING subject, last", claim.params)
        return dict(cursor.fetchall())


def _uuid_or_none(value) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def _event_row(draft: EventDraft, *, subject: str, sequence: int | None, now: datetime) -> Event:
    return Event(
        id=uuid.uuid4(),
        type=draft.type,
        schema_version=SCHEMA_VERSION,
        subject=subject,
        sequence=sequence,
        record_id=str(draft.record_id),
        record_uuid=_uuid_or_none(draft.record_id),
        occurred_at=draft.occurred_at or now,
        data=draft.data,
    )


@transaction.atomic(savepoint=False)
def events_record(*, drafts: Iterable[EventDraft]) -> list[Event]:
    """Write one outbox event per draft, in the caller's transaction; ask for delivery on commit.

    A change reported twice (same type and record id) is written once: the unique
    constraint ignores the second row (its sequence number is then simply unused;
    receivers must expect gaps, as subscribers to some types see anyway).
    """
    fresh = list(drafts)
    if not fresh:
        return []
    now = timezone.now()
    subjects = {draft.user_id: subject_for(draft.user_id) for draft in fresh}
    counts = Counter(subjects[draft.user_id] for draft in fresh)
    last = _sequences_allocate(counts)
    next_sequence = {subject: last[subject] - counts[subject] + 1 for subject in counts}
    events = []
    for draft in fresh:
        subject = subjects[draft.user_id]
        events.append(_event_row(draft, subject=subject, sequence=next_sequence[subject], now=now))
        next_sequence[subject] += 1
    Event.objects.bulk_create(events, batch_size=1000, ignore_conflicts=True)
    transaction.on_commit(_dispatch_enqueue, robust=True)
    return events


def event_record(
    *,
    type: str,
    user_id: int,
    record_id: str | int | uuid.UUID,
    occurred_at: datetime | None = None,
    data: dict | None = None,
) -> Event:
    """``events_record`` for one change."""
    events = events_record(
        drafts=[
            EventDraft(
                type=type,
                user_id=user_id,
                record_id=record_id,
                occurred_at=occurred_at,
                data=data or {},
            )
        ]
    )
    return events[0]


def event_inserts(draft: EventDraft) -> list[Statement]:
    """``event_record`` as statements, for a caller that sends them with its own writes in
    one round trip (config.statements): the subject's next number is claimed, and read
    back by the event's INSERT itself, so nothing has to come back in between.

    Call inside the transaction that runs them: delivery is asked for once it commits.
    """
    if not connection.in_atomic_block:
        raise TransactionManagementError(
            "event_inserts: call inside the transaction that runs the statements"
        )
    subject = subject_for(draft.user_id)
    table = connection.ops.quote_name(SubjectSequence._meta.db_table)
    claimed = Statement(f"(SELECT last FROM {table} WHERE subject = %s)", (subject,))
    event = _event_row(draft, subject=subject, sequence=None, now=timezone.now())
    transaction.on_commit(_dispatch_enqueue, robust=True)
    return [
        replace(_sequences_claim(Counter({subject: 1})), prepared=True),
        # A change reported twice is written once, as in events_record.
        row_insert(
            event,
            values_sql={"sequence": claimed},
            suffix=" ON CONFLICT DO NOTHING",
            prepared=True,
        ),
    ]


# --- Subscribers ----------------------------------------------------------------------------


@transaction.atomic
def subscriber_create(
    *,
    name: str,
    url: str,
    event_types: list[str],
    created_by=None,
    status: str = SubscriberStatus.ACTIVE,
) -> tuple[Subscriber, str]:
    """A new subscriber and its signing secret: the secret is returned here, and only here."""
    endpoint_resolve(url)  # EndpointRefused: a clear reason, nothing saved
    secret = secret_generate()
    subscriber = Subscriber.objects.create(
        name=name,
        url=url.strip(),
        event_types=sorted(set(event_types)),
        secret_encrypted=secret_encrypt(secret),
        status=status,
        created_at=timezone.now(),
        created_by=created_by,
    )
    logger.info("webhook subscriber created", extra={"subscriber_id": subscriber.pk})
    return subscriber, secret


def subscriber_secret_rotate(*, subscriber: Subscriber) -> str:
    """A new secret for ``subscriber``, returned once; deliveries from now on use it."""
    secret = secret_generate()
    subscriber.secret_encrypted = secret_encrypt(secret)
    subscriber.save(update_fields=["secret_encrypted"])
    logger.info("webhook secret rotated", extra={"subscriber_id": subscriber.pk})
    return secret


def subscriber_pause(
    *, subscriber: Subscriber, reason: str = "", now: datetime | None = None
) -> None:
    """Stop delivering to it; its deliveries wait (nothing is dropped) until it is resumed."""
    subscriber.status = SubscriberStatus.PAUSED
    subscriber.paused_at = now or timezone.now()
    subscriber.pause_reason = reason[:300]
    subscriber.save(update_fields=["status", "paused_at", "pause_reason"])


def subscriber_resume(*, subscriber: Subscriber) -> None:
    """Deliver again, oldest first; the dead-letter window restarts for what was waiting."""
    with transaction.atomic():
        subscriber.status = SubscriberStatus.ACTIVE
        subscriber.paused_at = None
        subscriber.pause_reason = ""
        subscriber.failing_since = None
        subscriber.save(update_fields=["status", "paused_at", "pause_reason", "failing_since"])
        Delivery.objects.filter(subscriber=subscriber, status__in=OPEN_STATUSES).update(
            first_attempt_at=None, next_attempt_at=timezone.now()
        )
        transaction.on_commit(_dispatch_enqueue, robust=True)


# --- Replay -----------------------------------------------------------------------------


@transaction.atomic
def deliveries_replay(*, deliveries, now: datetime | None = None) -> int:
    """Send the selected deliveries again (delivered or dead-lettered ones included).

    Receivers deduplicate by ``webhook-id`` (the event id), so a replay of something
    already received is harmless. Per user, replays go out in sequence order.
    """
    now = now or timezone.now()
    count = deliveries.update(
        status=DeliveryStatus.PENDING,
        next_attempt_at=now,
        first_attempt_at=None,
        dead_lettered_at=None,
        lease_until=None,
        lease_token=None,
    )
    transaction.on_commit(_dispatch_enqueue, robust=True)
    return count


@transaction.atomic
def events_replay(*, events, subscribers=None, now: datetime | None = None) -> int:
    """Send the selected events again to every subscriber wanting them (or to ``subscribers``).

    Creates the deliveries a subscriber never had (registered after the event), and
    reopens the ones it had. Returns how many deliveries were (re)opened.
    """
    now = now or timezone.now()
    subscribers = list(subscribers if subscribers is not None else Subscriber.objects.all())
    events = list(events)
    created = Delivery.objects.bulk_create(
        [
            Delivery(
                event=event,
                subscriber=subscriber,
                subject=event.subject,
                sequence=event.sequence,
                created_at=now,
                next_attempt_at=now,
            )
            for event in events
            for subscriber in subscribers
            if subscriber.wants(event.type)
        ],
        ignore_conflicts=True,
    )
    reopened = deliveries_replay(
        deliveries=Delivery.objects.filter(
            event__in=[event.pk for event in events], subscriber__in=subscribers
        ),
        now=now,
    )
    return max(reopened, len(created))
