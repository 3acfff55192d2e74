"""Every conversation activity goes through here: it keeps last_activity_at,
covered_by and retain_until true (DESIGN §4 rule 2, the arithmetic in ``rules``).

The assistant answers outside any database transaction: the person's message is
committed first, then the responder is asked (seconds, with a real model), then the
reply is saved in a short transaction of its own. If the responder fails, the message
stays saved and ``ReplyFailed`` says so; ``conversation_reply`` asks again.
"""

import logging
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from consent.models import Policy, UserConsentState
from consent.selectors import current_policy
from webhooks.models import EventType
from webhooks.services import event_record

from . import rules
from .models import Conversation, Message, Role
from .safety import conversation_safety_classify_enqueue
from .signals import owner_delete_held, owner_deleted

logger = logging.getLogger(__name__)

TITLE_LENGTH = 60
ELLIPSIS = "…"
# Dropped before the ellipsis: "word," or "word -" then "…" reads as a stutter.
TITLE_TRAILING = " ,;:-\N{EN DASH}\N{EM DASH}"
UNTITLED = "New conversation"


def conversation_title(text: str) -> str:
    """A title from the first message: whitespace collapsed, at most ``TITLE_LENGTH``
    characters, cut at a word boundary with an ellipsis when it is longer.

    A single word longer than the limit is cut inside it (still with the ellipsis).
    """
    words = " ".join(text.split())
    if len(words) <= TITLE_LENGTH:
        return words or UNTITLED
    room = TITLE_LENGTH - len(ELLIPSIS)
    cut = words[: room + 1]  # one more: a space right after the cut keeps the last word
    cut = cut[: cut.rfind(" ")] if " " in cut else cut[:room]
    # Nothing but punctuation before the cut: cut inside it rather than show a bare "…".
    return (cut.rstrip(TITLE_TRAILING) or words[:room]) + ELLIPSIS


class ReplyFailed(Exception):
    """The responder gave no reply; the person's message is saved (``question``)."""

    def __init__(self, *, conversation: Conversation, question: Message):
        super().__init__(f"No reply in conversation #{conversation.pk}")
        self.conversation = conversation
        self.question = question


def _coverage_state(user, policy: Policy | None, now: datetime) -> UserConsentState | None:
    """The opt-in state whose latest record covers activity happening now, or None.

    Its latest record is by construction a record of the present opt-in run, which
    ``rules.covered_q`` (or, across a material change, ``rules.grace_covered_q``) accepts.
    """
    return (
        UserConsentState.objects.filter(rules.opt_in_state_q(policy=policy, now=now), user=user)
        .select_related("latest_record")
        .first()
    )


def _record_activity(conversation: Conversation, now: datetime) -> None:
    policy = current_policy(now=now)
    # A temporary chat is never covered, whatever the owner chose (DESIGN §4 rule 8).
    state = None if conversation.is_temporary else _coverage_state(conversation.user, policy, now)
    grace = state is not None and rules.is_grace_state(
        policy=policy, state_policy_id=state.policy_id
    )
    conversation.last_activity_at = now
    conversation.covered_by = state.latest_record if state else None
    conversation.retain_until = rules.retain_until(
        last_activity_at=now,
        covered=state is not None and not grace,
        safety_flagged=conversation.safety_flagged_at is not None,
        policy=policy,
        temporary=conversation.is_temporary,
        grace=grace,
    )


def _history(conversation: Conversation) -> list[tuple[str, str]]:
    return list(
        Message.objects.filter(conversation_id=conversation.pk)
        .order_by("created_at", "pk")
        .values_list("role", "content")
    )


def _ask_responder(conversation: Conversation, question: Message) -> str:
    """The responder's reply to the conversation so far; no transaction may be open."""
    responder = import_string(settings.CHAT_RESPONDER)()
    try:
        return responder.reply(_history(conversation))
    except Exception as exc:
        # Whatever the model's client raises (timeouts, HTTP errors): the person's message
        # is committed and the UI offers to ask again.
        logger.exception("assistant reply failed", extra={"conversation_id": conversation.pk})
        # The new message still needs its safety check, reply or not.
        conversation_safety_classify_enqueue(conversation=conversation)
        raise ReplyFailed(conversation=conversation, question=question) from exc


@transaction.atomic
def _reply_save(
    *, conversation: Conversation, content: str, answering: Message | None
) -> Message | None:
    """Save the reply as new activity. With ``answering``, only if that message is still
    the newest (a retry that lost a race to another reply saves nothing: None)."""
    locked = Conversation.objects.select_for_update().select_related("user").get(pk=conversation.pk)
    if answering is not None:
        newest = locked.messages.order_by("-created_at", "-pk").values_list("pk", flat=True).first()
        if newest != answering.pk:
            return None
    now = timezone.now()
    _record_activity(locked, now)
    locked.save(update_fields=["last_activity_at", "covered_by", "retain_until"])
    for field in ("last_activity_at", "covered_by", "retain_until"):
        setattr(conversation, field, getattr(locked, field))
    reply = Message.objects.create(
        conversation=locked, role=Role.ASSISTANT, content=content, created_at=now
    )
    conversation_safety_classify_enqueue(conversation=locked)
    return reply


@transaction.atomic
def _conversation_open(*, user, text: str, temporary: bool) -> tuple[Conversation, Message]:
    now = timezone.now()
    conversation = Conversation(
        user=user, title=conversation_title(text), created_at=now, is_temporary=temporary
    )
    _record_activity(conversation, now)
    conversation.save()
    question = Message.objects.create(
        conversation=conversation, role=Role.USER, content=text, created_at=now
    )
    return conversation, question


@transaction.atomic
def _question_save(*, conversation: Conversation, text: str) -> Message:
    now = timezone.now()
    locked = Conversation.objects.select_for_update().select_related("user").get(pk=conversation.pk)
    _record_activity(locked, now)
    locked.save(update_fields=["last_activity_at", "covered_by", "retain_until"])
    for field in ("last_activity_at", "covered_by", "retain_until"):
        setattr(conversation, field, getattr(locked, field))
    return Message.objects.create(conversation=locked, role=Role.USER, content=text, created_at=now)


def conversation_start(*, user, text: str, temporary: bool = False) -> Conversation:
    """Start a conversation with the user's first message, then get the assistant's reply.

    ``temporary``: a temporary chat, never used for training and kept only the opt-out
    period (DESIGN §4 rule 8); it stays temporary for its whole life.
    Raises ``ReplyFailed`` (the conversation and message saved) when the responder fails.
    """
    conversation, question = _conversation_open(user=user, text=text, temporary=temporary)
    content = _ask_responder(conversation, question)
    _reply_save(conversation=conversation, content=content, answering=None)
    return conversation


def message_post(*, conversation: Conversation, text: str) -> tuple[Message, Message]:
    """Post to a conversation (which reopens an old one), then get the assistant's reply.

    Raises ``ReplyFailed`` (the message saved) when the responder fails.
    """
    question = _question_save(conversation=conversation, text=text)
    content = _ask_responder(conversation, question)
    answer = _reply_save(conversation=conversation, content=content, answering=None)
    return question, answer


def conversation_awaiting_reply(conversation: Conversation) -> Message | None:
    """The person's message the assistant has not answered (the newest message), or None."""
    newest = conversation.messages.order_by("-created_at", "-pk").first()
    return newest if newest is not None and newest.role == Role.USER else None


def conversation_reply(*, conversation: Conversation) -> Message | None:
    """Ask the assistant again to answer the newest message, after a failed reply.

    Returns the reply; None when there is nothing to answer (already answered, by this
    call's twin for example). Raises ``ReplyFailed`` when the responder fails again.
    """
    question = conversation_awaiting_reply(conversation)
    if question is None:
        return None
    content = _ask_responder(conversation, question)
    return _reply_save(conversation=conversation, content=content, answering=question)


def _deletion_report(conversation: Conversation, *, held: bool) -> None:
    """The outbox event telling downstream systems, in the deleting transaction (webhooks).

    ``held``: a legal hold keeps the content here until it ends; downstream systems must
    stop using it all the same.
    """
    event_record(
        type=EventType.CONVERSATION_DELETED,
        user_id=conversation.user_id,
        record_id=conversation.pk,
        data={"reason": "user", "held": held},
    )


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete at once, messages included; training uses already recorded stay in the ledger.

    Under a legal hold the owner's delete only hides it: it leaves training and the
    owner's view now, and the first purge after the hold ends removes it. Holds are
    retention's (``retention.receivers`` answers ``owner_delete_held``).
    """
    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    now = timezone.now()
    owner_deleted.send(
        sender=Conversation, conversation_id=locked.pk, user_id=locked.user_id, deleted_at=now
    )
    responses = owner_delete_held.send(sender=Conversation, conversation=locked)
    if any(held for _, held in responses):
        locked.deleted_by_user_at = now
        locked.retain_until = now
        locked.save(update_fields=["deleted_by_user_at", "retain_until"])
        _deletion_report(locked, held=True)
        return
    # Set-based: no ORM collector loading every message into memory.
    Message.objects.filter(conversation_id=locked.pk)._raw_delete(Message.objects.db)
    Conversation.objects.filter(pk=locked.pk).delete()
    _deletion_report(locked, held=False)


def conversation_retention_lapsed_recompute(
    *, policy: Policy | None, now: datetime, batch_size: int = 1000, max_batches: int = 20
) -> int:
    """Recompute, in bounded batches, the chats still kept for an opt-in that no longer
    keeps its retention (``rules.lapsed_opt_in_q``): the lockout task's retention half.

    Idempotent: a recomputed chat no longer matches, so a rerun (or the next run, after
    ``max_batches``) picks up where this one stopped.
    """
    candidates = Conversation.objects.filter(
        rules.lapsed_opt_in_q(policy=policy, now=now), deleted_by_user_at__isnull=True
    )
    expression = rules.retain_until_expression(policy=policy, now=now)
    recomputed = 0
    for _ in range(max_batches):
        batch = list(candidates.order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not batch:
            break
        recomputed += Conversation.objects.filter(pk__in=batch).update(retain_until=expression)
    logger.info("lapsed opt-ins recomputed", extra={"conversations": recomputed})
    return recomputed


def conversation_retention_recompute_for_user(
    *, user, now: datetime | None = None, policy: Policy | None = None
) -> int:
    """Recompute retain_until of every conversation of the user in one UPDATE.

    Covered (``rules.covered_q``): activity while the user's present, unbroken opt-in was
    in force. Anything else gets opt-out retention. Called after every consent decision of
    a user who has conversations (``consent.signals.decision_recorded``, inside the deciding
    transaction; the decision's own read already asked, so this does not ask again).
    """
    conversations = Conversation.objects.filter(user=user, deleted_by_user_at__isnull=True)
    now = now or timezone.now()
    policy = policy or current_policy(now=now)
    return conversations.update(retain_until=rules.retain_until_expression(policy=policy, now=now))
