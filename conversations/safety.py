"""The safety flag and the pluggable classifier that sets it.

A safety-flagged conversation is kept ``SAFETY_RETENTION_EXTENSION_DAYS`` longer for
review (``conversations.rules.retain_until``). Staff flag and unflag in admin; the
classifier named by ``settings.SAFETY_CLASSIFIER`` runs in a worker after every chat
activity, and a bounded sweep catches up on checks a broker outage lost.
"""

import logging
from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import import_string

from consent.selectors import current_policy

from . import rules
from .models import Conversation, Message

logger = logging.getLogger(__name__)


def _safety_flag_set(*, conversation: Conversation, flagged_at: datetime | None) -> Conversation:
    now = timezone.now()
    policy = current_policy(now=now)
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    this = Conversation.objects.filter(pk=locked.pk)
    covered = this.filter(rules.covered_q(policy=policy)).exists()
    grace = not covered and this.filter(rules.grace_covered_q(policy=policy, now=now)).exists()
    locked.safety_flagged_at = flagged_at
    locked.retain_until = rules.retain_until(
        last_activity_at=locked.last_activity_at,
        covered=covered,
        safety_flagged=flagged_at is not None,
        policy=policy,
        temporary=locked.is_temporary,
        grace=grace,
    )
    locked.save(update_fields=["safety_flagged_at", "retain_until"])
    conversation.safety_flagged_at = locked.safety_flagged_at
    conversation.retain_until = locked.retain_until
    return locked


@transaction.atomic
def conversation_safety_flag(*, conversation: Conversation, flagged_by=None) -> Conversation:
    """Keep a conversation ``SAFETY_RETENTION_EXTENSION_DAYS`` longer for safety review.

    Flagging a flagged conversation keeps the first flag time.
    """
    flagged_at = conversation.safety_flagged_at or timezone.now()
    flagged = _safety_flag_set(conversation=conversation, flagged_at=flagged_at)
    logger.info(
        "conversation safety-flagged",
        extra={
            "conversation_id": conversation.pk,
            "flagged_by": getattr(flagged_by, "pk", None),
            "retain_until": flagged.retain_until.isoformat(),
        },
    )
    return flagged


@transaction.atomic
def conversation_safety_unflag(*, conversation: Conversation, unflagged_by=None) -> Conversation:
    """Back to consent-based retention; if that has already passed, the next purge deletes it."""
    unflagged = _safety_flag_set(conversation=conversation, flagged_at=None)
    logger.info(
        "conversation safety flag cleared",
        extra={
            "conversation_id": conversation.pk,
            "unflagged_by": getattr(unflagged_by, "pk", None),
            "retain_until": unflagged.retain_until.isoformat(),
        },
    )
    return unflagged


def safety_classifier() -> Callable[[list[tuple[str, str]]], bool] | None:
    """``settings.SAFETY_CLASSIFIER``: dotted path to ``classify(history) -> bool``, or None.

    ``history`` is the conversation's ``[(role, content), ...]`` oldest first; a
    true answer keeps the conversation for safety review.
    """
    path = getattr(settings, "SAFETY_CLASSIFIER", None)
    return import_string(path) if path else None


def conversation_safety_classify(*, conversation_id: int) -> bool:
    """Ask the configured classifier about one conversation; flag it if it says so.

    Never clears a flag: that is a person's decision. Returns whether it is flagged.
    """
    classify = safety_classifier()
    conversation = Conversation.objects.filter(pk=conversation_id).first()
    if classify is None or conversation is None:
        return bool(conversation and conversation.safety_flagged_at)
    checked_at = timezone.now()
    if conversation.safety_flagged_at is not None:
        flagged = True
    else:
        history = list(
            Message.objects.filter(conversation_id=conversation_id)
            .order_by("created_at", "pk")
            .values_list("role", "content")
        )
        flagged = bool(classify(history))
        if flagged:
            conversation_safety_flag(conversation=conversation, flagged_by=None)
    Conversation.objects.filter(pk=conversation_id).update(safety_checked_at=checked_at)
    return flagged


def conversation_safety_sweep(*, batch_size: int = 500) -> int:
    """Classify conversations whose latest activity no classifier has read yet.

    The per-post check is enqueued after commit and is lost if the broker is down at
    that moment; this bounded sweep (beat, every 15 minutes) catches up on them.
    """
    if safety_classifier() is None:
        return 0
    unchecked = (
        Conversation.objects.filter(deleted_by_user_at__isnull=True)
        .filter(Q(safety_checked_at__isnull=True) | Q(safety_checked_at__lt=F("last_activity_at")))
        # Newest first: a check lost minutes ago matters more than an old backlog.
        .order_by("-last_activity_at")
        .values_list("pk", flat=True)[:batch_size]
    )
    ids = list(unchecked)
    for conversation_id in ids:
        conversation_safety_classify(conversation_id=conversation_id)
    logger.info("safety sweep", extra={"conversations_checked": len(ids)})
    return len(ids)


def conversation_safety_classify_enqueue(*, conversation: Conversation) -> None:
    """After the current transaction commits (at once outside one), classify in a worker.

    Does nothing when no classifier is configured.
    """
    if not getattr(settings, "SAFETY_CLASSIFIER", None):
        return
    # tasks imports this module for the services it wraps; the task is looked up when
    # needed so that neither module needs the other at import time (same app, no cycle
    # between apps).
    from .tasks import classify_conversation_safety

    conversation_id = conversation.pk
    # robust: the chat message is saved when this runs; a broker outage must not turn it
    # into a 500 (bench/faults.py redis_outage). Django logs the failed enqueue instead.
    transaction.on_commit(lambda: classify_conversation_safety.delay(conversation_id), robust=True)
