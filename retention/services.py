"""Retention writes: the purge (DESIGN §4 rule 3) and holds.

The purge is set-based and batched after Saleor's ``delete_expired_checkouts``:
each batch selects up to ``batch_size`` primary keys (keyset pagination, ``pk >
last``) and deletes them with one statement per table, never through the ORM
collector, which loads every row and is several times slower at a million rows.
Each batch commits on its own, so a crash loses nothing and the next run continues.
"""

import logging
import traceback
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Max, Window
from django.db.models.functions import Mod, RowNumber
from django.utils import timezone

from conversations.models import Conversation, Message
from webhooks.models import EventType
from webhooks.services import EventDraft, event_record, events_record

from . import errors
from .locks import LeaseLost, PurgeLockHandle, purge_lock, worker_name
from .models import Hold, RetentionRun, RunStatus
from .selectors import conversations_due_for_purge, holds_active

logger = logging.getLogger(__name__)

# Max batches per run when nothing else says so: the beat entry runs hourly and a
# run must end well inside the task's time limit; the rest waits for the next run.
DEFAULT_BATCH_SIZE = 5000
DEFAULT_MAX_BATCHES = 400

ProgressCallback = Callable[[RetentionRun], None]


# --- The purge ----------------------------------------------------------------------------


def retention_purge_run(
    *,
    now: datetime | None = None,
    batch_size: int | None = None,
    max_batches: int | None = None,
    dry_run: bool = False,
    id_range: tuple[int, int] | None = None,
    progress: ProgressCallback | None = None,
) -> RetentionRun:
    """Delete every unheld conversation, with its messages, whose ``retain_until`` is before T.

    T is ``now`` (default: the time the run starts), fixed for the whole run. Not
    atomic on purpose: every batch commits on its own. ``id_range`` (inclusive)
    limits the run to one chunk of ``retention_purge_plan``. Only one run (per
    chunk) works at a time; a second returns at once with a ``skipped_locked``
    run. A dry run takes no lock, deletes nothing and counts what is due.
    ``progress`` is called with the run after every batch.
    """
    cutoff = now or timezone.now()
    batch_size = batch_size or getattr(settings, "RETENTION_PURGE_BATCH_SIZE", DEFAULT_BATCH_SIZE)
    max_batches = max_batches or getattr(
        settings, "RETENTION_PURGE_MAX_BATCHES", DEFAULT_MAX_BATCHES
    )
    if batch_size < 1 or max_batches < 1:
        raise ValueError("batch_size and max_batches must be positive")
    run = RetentionRun(
        cutoff=cutoff,
        started_at=timezone.now(),
        dry_run=dry_run,
        id_range_lo=id_range[0] if id_range else None,
        id_range_hi=id_range[1] if id_range else None,
        batch_size=batch_size,
        max_batches=max_batches,
        worker=worker_name(),
    )
    if dry_run:
        # Writes nothing but its own record, so it cannot race a real run.
        run.save(force_insert=True)
        return _purge(run, lock=None, progress=progress)
    with purge_lock(id_range) as lock:
        if lock is None:
            run.status = RunStatus.SKIPPED_LOCKED
            run.finished_at = run.started_at
            run.error = errors.SKIPPED_LOCKED
            run.save(force_insert=True)
            logger.warning(
                "retention purge skipped: %s", errors.SKIPPED_LOCKED, extra={"run_id": run.pk}
            )
            return run
        run.save(force_insert=True)
        _abandoned_runs_close(run, lock=lock)
        return _purge(run, lock=lock, progress=progress)


def _abandoned_runs_close(run: RetentionRun, *, lock: PurgeLockHandle) -> None:
    """Whoever holds the lock knows that other 'running' runs under that lock died.

    Which runs a lock excludes is the lock's to say (``PurgeLockHandle.runs_excluded_q``).
    """
    stale = RetentionRun.objects.filter(lock.runs_excluded_q(), status=RunStatus.RUNNING)
    stale.filter(dry_run=False).exclude(pk=run.pk).update(
        status=RunStatus.FAILED, error=errors.ABANDONED, finished_at=run.started_at
    )


def _purge(run: RetentionRun, *, lock, progress: ProgressCallback | None) -> RetentionRun:
    due = conversations_due_for_purge(cutoff=run.cutoff, id_range=run.id_range)
    last_pk = None
    try:
        while run.batches < run.max_batches:
            page = due if last_pk is None else due.filter(pk__gt=last_pk)
            pks = list(page.values_list("pk", flat=True)[: run.batch_size])
            if not pks:
                run.exhausted = True
                break
            last_pk = pks[-1]
            if lock is not None:
                lock.renew()
            if run.dry_run:
                conversations, messages = len(pks), _messages_count(pks)
                _run_add_batch(run, conversations, messages)
            else:
                with transaction.atomic():
                    conversations, messages = _batch_delete(pks, cutoff=run.cutoff)
                    _run_add_batch(run, conversations, messages)
            logger.debug(
                "retention purge batch %d: %d conversations, %d messages%s",
                run.batches,
                conversations,
                messages,
                " (dry run)" if run.dry_run else "",
                extra={"run_id": run.pk},
            )
            if progress is not None:
                progress(run)
        else:
            # Stopped at max_batches: is anything left for the next run?
            run.exhausted = not due.filter(pk__gt=last_pk).exists() if last_pk else True
    except BaseException as exc:
        run.status = RunStatus.FAILED
        run.error = "".join(traceback.format_exception_only(exc)).strip()
        if isinstance(exc, LeaseLost):
            run.error = errors.LEASE_LOST
        run.finished_at = timezone.now()
        try:
            _run_save_end(run)
        except DatabaseError:
            # The connection itself failed: the run stays 'running' until the next
            # run closes it as abandoned. The original error is the one to raise.
            logger.exception("could not record the failed purge run", extra={"run_id": run.pk})
        logger.exception("retention purge failed", extra={"run_id": run.pk})
        raise
    run.status = RunStatus.SUCCEEDED
    run.finished_at = timezone.now()
    _run_save_end(run)
    logger.info(
        "retention purge %s: %d conversations and %d messages in %d batches, cutoff %s%s",
        "counted" if run.dry_run else "finished",
        run.conversations_deleted,
        run.messages_deleted,
        run.batches,
        run.cutoff.isoformat(),
        "" if run.exhausted else "; more remain for the next run",
        extra={"run_id": run.pk},
    )
    return run


def _batch_delete(pks: list[int], *, cutoff: datetime) -> tuple[int, int]:
    """Delete one batch: conversations first, then their messages and spent holds.

    The conversation DELETE repeats the due conditions, so a row changed since
    the SELECT (a message posted, a hold placed: both update the row) is
    re-checked under its row lock and kept. Only the rows it actually deleted
    (RETURNING) lose their messages; the foreign keys are DEFERRABLE INITIALLY
    DEFERRED, checked at commit, when the messages are gone too.
    """
    owners = _owners(pks)
    deleted = _conversations_delete_returning(pks, cutoff=cutoff)
    if not deleted:
        return 0, 0
    # Downstream systems hold copies under the same rule: one outbox event per deletion
    # (webhooks), committed with it. One an owner's delete already reported is not repeated.
    events_record(
        drafts=[
            EventDraft(
                type=EventType.CONVERSATION_DELETED,
                user_id=owners[pk],
                record_id=pk,
                data={"reason": "retention", "held": False},
            )
            for pk in deleted
        ]
    )
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        in_deleted, params = _in_ids("conversation_id", deleted)
        cursor.execute(f"DELETE FROM {qn(Message._meta.db_table)} WHERE {in_deleted}", params)
        messages = cursor.rowcount
        # Holds left on a due conversation are spent (released or lapsed): they go with it.
        cursor.execute(f"DELETE FROM {qn(Hold._meta.db_table)} WHERE {in_deleted}", params)
    return len(deleted), messages


def _owners(conversation_ids: list[int]) -> dict[int, int]:
    """Conversation id -> user id, read before the DELETE (the events name the owner)."""
    in_ids, params = _in_ids("id", conversation_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, user_id FROM {connection.ops.quote_name(Conversation._meta.db_table)} "
            f"WHERE {in_ids}",
            params,
        )
        return dict(cursor.fetchall())


def _messages_count(conversation_ids: list[int]) -> int:
    in_ids, params = _in_ids("conversation_id", conversation_ids)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {connection.ops.quote_name(Message._meta.db_table)} WHERE {in_ids}",
            params,
        )
        return cursor.fetchone()[0]


def _in_ids(column: str, ids: list[int], *, vendor: str | None = None) -> tuple[str, list]:
    """``column IN (ids)`` as SQL and parameters, for ``vendor`` (default: the connection's).

    PostgreSQL gets one array parameter (``= ANY(%s)``): an IN list of 5,000
    placeholders costs ~35 ms per statement to bind and plan, one array ~5 ms.
    """
    if (vendor or connection.vendor) == "postgresql":
        # A text array literal: Django's client-side binding would otherwise quote the
        # list element by element in Python (~13 ms per 5,000 ids).
        return f"{column} = ANY(%s::bigint[])", ["{" + ",".join(str(int(pk)) for pk in ids) + "}"]
    return f"{column} IN ({', '.join(['%s'] * len(ids))})", list(ids)


def _conversations_delete_returning(pks: list[int], *, cutoff: datetime) -> list[int]:
    qn = connection.ops.quote_name
    c, hold = qn(Conversation._meta.db_table), qn(Hold._meta.db_table)  # No alias: SQLite
    in_pks, params = _in_ids(f"{c}.id", pks)  # cannot resolve one in a DELETE.
    # The conditions of selectors.conversations_due_for_purge, in SQL. Two NOT EXISTS,
    # not one with OR, so each can use its hold index.
    active_hold = "h.released_at IS NULL AND (h.until IS NULL OR h.until > %s)"
    sql = f"""
        DELETE FROM {c}
        WHERE {in_pks}
          AND {c}.retain_until < %s
          AND ({c}.hold_until <= %s OR ({c}.hold_until IS NULL AND {c}.hold_reason = ''))
          AND NOT EXISTS (
              SELECT 1 FROM {hold} h WHERE h.conversation_id = {c}.id AND {active_hold}
          )
          AND NOT EXISTS (
              SELECT 1 FROM {hold} h WHERE h.user_id = {c}.user_id AND {active_hold}
          )
        RETURNING id
    """
    # As the ORM stores it: SQLite compares text, and the driver's own rendering of an aware
    # datetime ("... 12:00:00+00:00") sorts after the stored "... 12:00:00" at the same instant.
    at = connection.ops.adapt_datetimefield_value(cutoff)
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, at, at, at, at])
        return [row[0] for row in cursor.fetchall()]


def _run_add_batch(run: RetentionRun, conversations: int, messages: int) -> None:
    # Inside the batch's transaction: the recorded counts are exactly what was committed.
    RetentionRun.objects.filter(pk=run.pk).update(
        batches=F("batches") + 1,
        conversations_deleted=F("conversations_deleted") + conversations,
        messages_deleted=F("messages_deleted") + messages,
    )
    run.batches += 1
    run.conversations_deleted += conversations
    run.messages_deleted += messages


def _run_save_end(run: RetentionRun) -> None:
    run.save(update_fields=["status", "finished_at", "exhausted", "error"])


def retention_purge_plan(*, now: datetime | None = None, chunk_size: int) -> list[tuple[int, int]]:
    """Split the ids due at ``now`` into inclusive, non-overlapping ``(lo, hi)`` ranges.

    Each range holds ``chunk_size`` due conversations (as counted when planned),
    so workers get even shares, and together the ranges cover every due id. One
    ordered pass over the due ids, in the database (window functions): the plan is
    N / chunk_size rows however big N is.
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be positive")
    due = conversations_due_for_purge(cutoff=now or timezone.now()).order_by()
    starts = (
        due.annotate(
            position=Window(RowNumber(), order_by=F("pk").asc()) - 1,
            last_id=Window(Max("pk")),
        )
        .annotate(offset=Mod(F("position"), chunk_size))
        .filter(offset=0)
        .order_by("pk")
        .values_list("pk", "last_id")
    )
    rows = list(starts)
    if not rows:
        return []
    lows = [row[0] for row in rows]
    highs = [low - 1 for low in lows[1:]] + [rows[0][1]]
    return list(zip(lows, highs, strict=True))


# --- Holds --------------------------------------------------------------------------------


def _hold_strongest(holds) -> tuple[str, datetime | None] | None:
    """The hold that lasts longest: one without an end beats any date."""
    holds = list(holds)
    if not holds:
        return None
    open_ended = [h for h in holds if h.until is None]
    if open_ended:
        chosen = max(open_ended, key=lambda h: (h.created_at, h.pk))
    else:
        chosen = max(holds, key=lambda h: (h.until, h.pk))
    return chosen.reason, chosen.until


def _hold_fields_refresh(*, user_id: int, conversation_id: int | None, now: datetime) -> None:
    """Copy the strongest active hold onto ``Conversation.hold_reason``/``hold_until``.

    For one conversation, or every conversation of the user when ``conversation_id``
    is None. The Hold rows stay the source of truth.
    """
    active = holds_active(at=now)
    user_holds = list(active.filter(user_id=user_id))
    own_holds: dict[int, list[Hold]] = {}
    own = active.filter(conversation__user_id=user_id)
    if conversation_id is not None:
        own = own.filter(conversation_id=conversation_id)
    for hold in own:
        own_holds.setdefault(hold.conversation_id, []).append(hold)

    scope = Conversation.objects.filter(user_id=user_id)
    if conversation_id is not None:
        scope = scope.filter(pk=conversation_id)
    reason, until = _hold_strongest(user_holds) or ("", None)
    scope.exclude(pk__in=own_holds).update(hold_reason=reason, hold_until=until)
    for held_id, holds in own_holds.items():
        reason, until = _hold_strongest([*holds, *user_holds])
        Conversation.objects.filter(pk=held_id).update(hold_reason=reason, hold_until=until)


def _hold_targets_lock(*, user_id: int, conversation_id: int | None) -> None:
    """Lock the held rows first, in primary-key order, so concurrent hold changes serialise."""
    rows = Conversation.objects.select_for_update().filter(user_id=user_id)
    if conversation_id is not None:
        rows = rows.filter(pk=conversation_id)
    list(rows.order_by("pk").values_list("pk", flat=True))


@transaction.atomic
def hold_place(
    *,
    reason: str,
    conversation: Conversation | None = None,
    user=None,
    until: datetime | None = None,
    created_by=None,
) -> Hold:
    """Keep one conversation, or every conversation of one user, out of every purge.

    Until ``until`` passes or the hold is released; ``until=None`` means until released.
    """
    if (conversation is None) == (user is None):
        raise ValidationError(errors.HOLD_TARGET_REQUIRED, code="hold_target")
    now = timezone.now()
    if until is not None and until <= now:
        raise ValidationError(errors.HOLD_UNTIL_IN_PAST, code="hold_until_in_past")
    user_id = conversation.user_id if conversation is not None else user.pk
    conversation_id = conversation.pk if conversation is not None else None
    _hold_targets_lock(user_id=user_id, conversation_id=conversation_id)
    if conversation is not None and not Conversation.objects.filter(pk=conversation_id).exists():
        raise Conversation.DoesNotExist(f"Conversation #{conversation_id} was already deleted.")
    hold = Hold.objects.create(
        conversation=conversation,
        user=user,
        reason=reason,
        until=until,
        created_by=created_by,
        created_at=now,
    )
    _hold_fields_refresh(user_id=user_id, conversation_id=conversation_id, now=now)
    event_record(
        type=EventType.HOLD_PLACED,
        user_id=user_id,
        record_id=hold.pk,
        occurred_at=now,
        data={
            "scope": "conversation" if conversation_id is not None else "account",
            "conversation_id": conversation_id,
            "until": until.isoformat() if until else None,
        },
    )
    logger.info(
        "retention hold placed",
        extra={"hold_id": hold.pk, "conversation_id": conversation_id, "user_id": user_id},
    )
    return hold


@transaction.atomic
def hold_release(*, hold: Hold, released_by=None) -> Hold:
    """End a hold now; the held data falls back under normal retention at the next run.

    Releasing an already released hold changes nothing. Raises ``Hold.DoesNotExist`` when
    the held conversation is gone: its holds went with it (the foreign key cascades, and
    the purge deletes a conversation's spent holds in the same transaction).
    """
    user_id = (
        hold.user_id
        or Conversation.objects.filter(pk=hold.conversation_id)
        .values_list("user_id", flat=True)
        .first()
    )
    if user_id is None:
        raise Hold.DoesNotExist(f"Hold #{hold.pk} was deleted with its conversation.")
    _hold_targets_lock(user_id=user_id, conversation_id=hold.conversation_id)
    hold = Hold.objects.select_for_update().get(pk=hold.pk)
    if hold.released_at is not None:
        return hold
    now = timezone.now()
    hold.released_at = now
    hold.released_by = released_by
    hold.save(update_fields=["released_at", "released_by"])
    _hold_fields_refresh(user_id=user_id, conversation_id=hold.conversation_id, now=now)
    event_record(
        type=EventType.HOLD_RELEASED,
        user_id=user_id,
        record_id=hold.pk,
        occurred_at=now,
        data={
            "scope": "conversation" if hold.conversation_id is not None else "account",
            "conversation_id": hold.conversation_id,
        },
    )
    logger.info("retention hold released", extra={"hold_id": hold.pk})
    return hold
