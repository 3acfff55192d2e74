"""The relay and the workers' side: events become deliveries, deliveries become POSTs.

- ``events_relay`` fans each new outbox event out into one Delivery per subscriber that
  wants its type (paused subscribers included: their deliveries wait, nothing is lost).
  Events are taken in (user, sequence) order, so a user's later event never gets its
  deliveries before an earlier one (a snapshot that shows event n+1 shows event n: n
  committed first, under the sequence row's lock).
- ``subscriber_deliver`` takes *lanes*: for some users, their open deliveries to one
  subscriber from the earliest on, in sequence order, leased to this worker. A delivery is
  attempted only once every earlier one of that user to that subscriber is delivered or
  dead-lettered, and a lane stops at its first failure. Leases run out, so a killed
  worker's lanes are taken over (at-least-once: receivers deduplicate by ``webhook-id``).
- A failure is retried with exponential backoff and jitter, and dead-lettered once the
  first attempt is older than ``WEBHOOKS_DEAD_LETTER_AFTER_HOURS``. A subscriber failing for
  ``WEBHOOKS_PAUSE_AFTER_HOURS`` is paused and the privacy officers are emailed.
"""

import logging
import random
import threading
import time
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Exists, F, Min, OuterRef, Q, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER

from . import errors
from .addresses import Endpoint, EndpointRefused, endpoint_resolve
from .models import OPEN_STATUSES, Delivery, DeliveryStatus, Event, Subscriber, SubscriberStatus
from .payloads import event_body
from .signing import secret_decrypt, signature_headers
from .transport import Outcome, post

logger = logging.getLogger(__name__)


# --- Relay ----------------------------------------------------------------------------------


def events_relay(*, batch_size: int = 1000, now: datetime | None = None) -> int:
    """Create the deliveries of up to ``batch_size`` new events; how many events were relayed."""
    now = now or timezone.now()
    with transaction.atomic():
        events = list(
            Event.objects.filter(fanned_out_at__isnull=True)
            .order_by("subject", "sequence")
            .only("id", "type", "subject", "sequence")[:batch_size]
        )
        if not events:
            return 0
        subscribers = list(Subscriber.objects.only("pk", "event_types"))
        Delivery.objects.bulk_create(
            [
                Delivery(
                    event_id=event.pk,
                    subscriber_id=subscriber.pk,
                    subject=event.subject,
                    sequence=event.sequence,
                    created_at=now,
                    next_attempt_at=now,
                )
                for event in events
                for subscriber in subscribers
                if subscriber.wants(event.type)
            ],
            batch_size=1000,
            # Two relays racing on the same events: the second one's rows are ignored.
            ignore_conflicts=True,
        )
        Event.objects.filter(pk__in=[event.pk for event in events]).update(fanned_out_at=now)
    return len(events)


# --- Retry schedule -------------------------------------------------------------------------


def retry_delay(attempts: int, *, rng: random.Random | None = None) -> timedelta:
    """Wait before the next try after ``attempts`` failed ones: doubling, capped, jittered.

    "Equal jitter": half the exponential delay, plus a random part of the other half, so
    retries after an outage spread out instead of arriving together.
    """
    base = settings.WEBHOOKS_RETRY_BASE_SECONDS
    ceiling = min(settings.WEBHOOKS_RETRY_MAX_SECONDS, base * 2 ** min(attempts - 1, 32))
    return timedelta(seconds=ceiling / 2 + (rng or random).uniform(0, ceiling / 2))


def _dead_letter_after() -> timedelta:
    return timedelta(hours=settings.WEBHOOKS_DEAD_LETTER_AFTER_HOURS)


# --- Delivering -----------------------------------------------------------------------------


@dataclass
class DispatchResult:
    delivered: int = 0
    failed: int = 0
    dead_lettered: int = 0
    skipped: int = 0  # leased but not attempted (an earlier one in the lane failed, time ran out)
    paused: list[int] = field(default_factory=list)

    def add(self, other: "DispatchResult") -> None:
        self.delivered += other.delivered
        self.failed += other.failed
        self.dead_lettered += other.dead_lettered
        self.skipped += other.skipped
        self.paused += other.paused

    @property
    def attempted(self) -> int:
        return self.delivered + self.failed + self.dead_lettered


def _lanes_lease(
    subscriber: Subscriber, *, now: datetime, batch_size: int
) -> tuple[uuid.UUID, list[Delivery]]:
    """Lease the open deliveries of a few users (from each user's earliest on); in lane order."""
    free = Q(lease_until__isnull=True) | Q(lease_until__lt=now)
    open_ = Delivery.objects.filter(subscriber=subscriber, status__in=OPEN_STATUSES)
    earlier_open = open_.filter(subject=OuterRef("subject"), sequence__lt=OuterRef("sequence"))
    token = uuid.uuid4()
    lease_until = now + timedelta(seconds=settings.WEBHOOKS_LEASE_SECONDS)
    with transaction.atomic():
        # SKIP LOCKED (PostgreSQL): concurrent workers take different users' lanes instead
        # of all reaching for the same heads; SQLite serialises writers anyway.
        heads = (
            open_.filter(free, next_attempt_at__lte=now)
            .exclude(Exists(earlier_open))
            .order_by("next_attempt_at")
            .select_for_update(skip_locked=True)
            .values_list("subject", flat=True)[:batch_size]
        )
        subjects = list(heads)
        if not subjects:
            return token, []
        candidates = (
            open_.filter(free, subject__in=subjects, next_attempt_at__lte=now)
            .order_by("subject", "sequence")
            .select_for_update(skip_locked=True)
            .values_list("pk", flat=True)[:batch_size]
        )
        Delivery.objects.filter(pk__in=list(candidates)).update(
            lease_until=lease_until, lease_token=token
        )
    leased = list(
        Delivery.objects.filter(lease_token=token)
        .select_related("event")
        .order_by("subject", "sequence")
    )
    # A lane is ours only up to the first open delivery of that user we do not hold: it
    # must start at the user's earliest open delivery (another worker may have leased
    # earlier ones meanwhile) and have no hole (a row skipped as locked, a replay). The
    # rest goes back.
    not_mine = dict(
        open_.filter(subject__in={d.subject for d in leased})
        .exclude(lease_token=token)
        .values("subject")
        .annotate(first=Min("sequence"))
        .values_list("subject", "first")
    )
    mine, foreign = [], []
    for delivery in leased:
        hole = not_mine.get(delivery.subject)
        (mine if hole is None or delivery.sequence < hole else foreign).append(delivery)
    if foreign:
        _leases_release(token, [d.pk for d in foreign])
    return token, mine


def _leases_release(token: uuid.UUID, pks: list[int]) -> None:
    Delivery.objects.filter(pk__in=pks, lease_token=token).update(
        lease_until=None, lease_token=None
    )


def _record(delivery: Delivery, token: uuid.UUID, outcome: Outcome, *, now: datetime) -> str:
    """Store one attempt's outcome; the delivery's new status."""
    first_attempt_at = delivery.first_attempt_at or now
    attempts = delivery.attempts + 1
    fields = {
        "attempts": attempts,
        "first_attempt_at": first_attempt_at,
        "last_attempt_at": now,
        "response_status": outcome.status,
        "response_excerpt": outcome.excerpt[:256],
        "last_error": outcome.error[:256],
        "lease_until": None,
        "lease_token": None,
    }
    if outcome.delivered:
        status = DeliveryStatus.DELIVERED
        fields["delivered_at"] = now
    elif now - first_attempt_at >= _dead_letter_after():
        status = DeliveryStatus.DEAD_LETTERED
        fields["dead_lettered_at"] = now
    else:
        status = DeliveryStatus.FAILED
        fields["next_attempt_at"] = now + retry_delay(attempts)
    # Only while the lease is ours: a worker that lost it must not overwrite the new owner.
    Delivery.objects.filter(pk=delivery.pk, lease_token=token).update(status=status, **fields)
    return status


def _attempt(delivery: Delivery, *, secret: str, endpoint: Endpoint) -> Outcome:
    body = event_body(delivery.event)
    headers = signature_headers(
        secret=secret, event_id=str(delivery.event_id), body=body, timestamp=timezone.now()
    )
    return post(endpoint, body=body.encode(), headers=headers)


class _Acknowledged:
    """Deliveries answered 2xx, recorded together: one transaction per flush, not per POST.

    Until a flush they stay leased; a worker killed before it flushes has them sent again
    once the lease runs out (at-least-once: the receiver drops the duplicate).
    """

    FLUSH_EVERY = 100
    FLUSH_SECONDS = 1.0

    def __init__(self, token: uuid.UUID):
        self.token = token
        self.pending: dict[tuple[int, str], list[int]] = defaultdict(list)
        self.count = 0
        self.first_at: datetime | None = None
        self.since = time.monotonic()

    def add(self, delivery: Delivery, outcome: Outcome, *, at: datetime) -> None:
        self.pending[(outcome.status, outcome.excerpt[:256])].append(delivery.pk)
        self.count += 1
        self.first_at = self.first_at or at
        if self.count >= self.FLUSH_EVERY or time.monotonic() - self.since > self.FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        if not self.count:
            return
        now = timezone.now()
        with transaction.atomic():
            for (status, excerpt), pks in self.pending.items():
                # Only while the lease is ours: a worker that lost it must not overwrite.
                Delivery.objects.filter(pk__in=pks, lease_token=self.token).update(
                    status=DeliveryStatus.DELIVERED,
                    attempts=F("attempts") + 1,
                    first_attempt_at=Coalesce(F("first_attempt_at"), Value(self.first_at)),
                    last_attempt_at=now,
                    delivered_at=now,
                    response_status=status,
                    response_excerpt=excerpt,
                    last_error="",
                    lease_until=None,
                    lease_token=None,
                )
        self.pending.clear()
        self.count = 0
        self.first_at = None
        self.since = time.monotonic()


def _dead_by_now(delivery: Delivery, now: datetime) -> bool:
    """Would a failure now dead-letter it (``_record``'s rule, without the database)?"""
    return now - (delivery.first_attempt_at or now) >= _dead_letter_after()


@dataclass
class _LaneRun:
    sent: list[tuple[Delivery, Outcome]] = field(default_factory=list)
    left: list[Delivery] = field(default_factory=list)  # not attempted: leases to give back


def _lane_send(
    lane: list[Delivery], *, secret: str, endpoint: Endpoint, down: threading.Event, deadline
) -> _LaneRun:
    """One user's deliveries, in order, on a pool thread: HTTP only, no database.

    Stops at the first failure that is not a dead letter (the user's later events wait),
    and at once when the endpoint is unreachable for any lane or time is up.
    """
    run = _LaneRun()
    for index, delivery in enumerate(lane):
        if down.is_set() or (deadline is not None and time.monotonic() > deadline):
            run.left = lane[index:]
            break
        outcome = _attempt(delivery, secret=secret, endpoint=endpoint)
        run.sent.append((delivery, outcome))
        if outcome.delivered:
            continue
        if not outcome.connected:
            down.set()  # the other lanes would only wait for their timeouts too
        if not _dead_by_now(delivery, timezone.now()):
            run.left = lane[index + 1 :]
            break
    return run


_pool: ThreadPoolExecutor | None = None


def _delivery_pool() -> ThreadPoolExecutor:
    # Created lazily, in the process that uses it (after Celery's prefork fork).
    global _pool
    size = settings.WEBHOOKS_DELIVERY_THREADS
    if _pool is None or _pool._max_workers != size:
        _pool = ThreadPoolExecutor(max_workers=size, thread_name_prefix="webhooks")
    return _pool


def subscriber_deliver(
    subscriber: Subscriber, *, batch_size: int | None = None, deadline: float | None = None
) -> DispatchResult:
    """One batch of lanes for ``subscriber``: attempt, record, retry later or dead-letter.

    Lanes (one user's deliveries each) are sent concurrently on a small thread pool; each
    lane is sequential. Outcomes are recorded here, on this thread's database connection.
    """
    result = DispatchResult()
    token, leased = _lanes_lease(
        subscriber, now=timezone.now(), batch_size=batch_size or settings.WEBHOOKS_BATCH_SIZE
    )
    if not leased:
        return result
    secret = secret_decrypt(subscriber.secret_encrypted)
    try:
        # Once per batch, never cached longer: DNS may change, and every batch checks again.
        endpoint = endpoint_resolve(subscriber.url)
    except EndpointRefused as exc:
        # Recorded as a failed attempt of each lane's first delivery; the rest wait.
        refused = Outcome(
            delivered=False, error=errors.ENDPOINT_REFUSED.format(reason=exc), connected=False
        )
        lanes = _lanes_split(leased)
        runs = [_LaneRun(sent=[(lane[0], refused)], left=lane[1:]) for lane in lanes]
    else:
        down = threading.Event()
        futures = [
            _delivery_pool().submit(
                _lane_send, lane, secret=secret, endpoint=endpoint, down=down, deadline=deadline
            )
            for lane in _lanes_split(leased)
        ]
        runs = [future.result() for future in futures]
    acknowledged = _Acknowledged(token)
    for run in runs:
        for delivery, outcome in run.sent:
            if outcome.delivered:
                acknowledged.add(delivery, outcome, at=timezone.now())
                result.delivered += 1
            elif _record(delivery, token, outcome, now=timezone.now()) == (
                DeliveryStatus.DEAD_LETTERED
            ):
                result.dead_lettered += 1
            else:
                result.failed += 1
        if run.left:
            _leases_release(token, [d.pk for d in run.left])
            result.skipped += len(run.left)
    acknowledged.flush()
    if result.attempted:
        _subscriber_health_note(subscriber, result=result, now=timezone.now())
    return result


def _lanes_split(leased: list[Delivery]) -> list[list[Delivery]]:
    """The leased deliveries (in subject, sequence order) as one list per user."""
    lanes: dict[str, list[Delivery]] = {}
    for delivery in leased:
        lanes.setdefault(delivery.subject, []).append(delivery)
    return list(lanes.values())


def _subscriber_health_note(
    subscriber: Subscriber, *, result: DispatchResult, now: datetime
) -> None:
    if result.delivered:
        Subscriber.objects.filter(pk=subscriber.pk, failing_since__isnull=False).update(
            failing_since=None
        )
        subscriber.failing_since = None
        return
    Subscriber.objects.filter(pk=subscriber.pk).update(
        failing_since=Coalesce(F("failing_since"), now)
    )
    subscriber.refresh_from_db(fields=["failing_since", "status"])
    pause_after = timedelta(hours=settings.WEBHOOKS_PAUSE_AFTER_HOURS)
    if subscriber.is_active and now - subscriber.failing_since >= pause_after:
        reason = errors.PAUSED_AFTER_FAILURES.format(hours=settings.WEBHOOKS_PAUSE_AFTER_HOURS)
        paused = Subscriber.objects.filter(pk=subscriber.pk, status=SubscriberStatus.ACTIVE).update(
            status=SubscriberStatus.PAUSED, paused_at=now, pause_reason=reason
        )
        if paused:
            result.paused.append(subscriber.pk)
            _privacy_officers_tell(subscriber, reason=reason)


def _privacy_officers_tell(subscriber: Subscriber, *, reason: str) -> None:
    recipients = list(
        get_user_model()
        .objects.filter(groups__name=PRIVACY_OFFICER, is_active=True, is_staff=True)
        .values_list("email", flat=True)
    )
    logger.warning("webhook subscriber paused", extra={"subscriber_id": subscriber.pk})
    if not recipients:
        return
    send_mail(
        subject=f"Webhook subscriber paused: {subscriber.name}",
        message=(
            f"{reason}\n\nEndpoint: {subscriber.url}\n\n"
            "Events for it are kept and wait in order. Once the system answers again, "
            "resume the subscriber in admin (Webhooks > Subscribers > Resume); dead-lettered "
            "deliveries can be replayed there too.\n"
        ),
        from_email=None,
        recipient_list=recipients,
    )


def webhooks_dispatch(*, max_seconds: float | None = None) -> DispatchResult:
    """Relay new events, then deliver what is due to every active subscriber, within a time budget."""
    budget = max_seconds if max_seconds is not None else settings.WEBHOOKS_LEASE_SECONDS / 2
    deadline = time.monotonic() + budget
    while events_relay() and time.monotonic() < deadline:
        pass
    total = DispatchResult()
    busy = list(Subscriber.objects.filter(status=SubscriberStatus.ACTIVE))
    while busy and time.monotonic() < deadline:
        still_busy = []
        for subscriber in busy:
            result = subscriber_deliver(subscriber, deadline=deadline)
            total.add(result)
            # Another batch only while this one made progress.
            if result.delivered or result.dead_lettered:
                still_busy.append(subscriber)
        busy = still_busy
    if total.attempted:
        logger.info(
            "webhooks dispatched",
            extra={
                "delivered": total.delivered,
                "failed": total.failed,
                "dead_lettered": total.dead_lettered,
            },
        )
    return total


def next_retry_at() -> datetime | None:
    """When the earliest failed delivery of an active subscriber is due again."""
    return (
        Delivery.objects.filter(
            status=DeliveryStatus.FAILED, subscriber__status=SubscriberStatus.ACTIVE
        )
        .order_by("next_attempt_at")
        .values_list("next_attempt_at", flat=True)
        .first()
    )
