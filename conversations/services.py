"""Every conversation activity goes through here: it keeps last_activity_at,
covered_by and retain_until true (DESIGN §4 rule 2)."""

from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, DateTimeField, ExpressionWrapper, F, Value, When
from django.utils import timezone
from django.utils.module_loading import import_string

from consent.models import Choice, ConsentRecord, UserConsentState
from consent.selectors import current_policy

from .models import Conversation, Message, Role

TITLE_LENGTH = 60
DEFAULT_OPT_OUT_RETENTION = timedelta(days=30)
DEFAULT_OPT_IN_RETENTION = timedelta(days=1825)


def _retention_periods(now: datetime, policy=None) -> tuple[timedelta, timedelta]:
    """(opt-in, opt-out) retention of the policy in force; defaults before any policy exists."""
    policy = policy or current_policy(now=now)
    if policy is None:
        return DEFAULT_OPT_IN_RETENTION, DEFAULT_OPT_OUT_RETENTION
    return policy.opt_in_retention, policy.opt_out_retention


def _coverage_now(user, now: datetime) -> ConsentRecord | None:
    """The opt-in record that covers activity happening now, or None."""
    policy = current_policy(now=now)
    if policy is None:
        return None
    state = (
        UserConsentState.objects.filter(user=user, policy=policy, choice=Choice.OPT_IN)
        .select_related("latest_record")
        .first()
    )
    return state.latest_record if state else None


def _safety_extension() -> timedelta:
    return timedelta(days=settings.SAFETY_RETENTION_EXTENSION_DAYS)


def conversation_retain_until(
    *, last_activity_at: datetime, covered: bool, safety_flagged: bool, now: datetime | None = None
) -> datetime:
    """retain_until for one conversation, as rule 2 defines it."""
    opt_in, opt_out = _retention_periods(now or timezone.now())
    retain_until = last_activity_at + (opt_in if covered else opt_out)
    if safety_flagged:
        retain_until += _safety_extension()
    return retain_until


def _record_activity(conversation: Conversation, now: datetime) -> None:
    covered_by = _coverage_now(conversation.user, now)
    conversation.last_activity_at = now
    conversation.covered_by = covered_by
    conversation.retain_until = conversation_retain_until(
        last_activity_at=now,
        covered=covered_by is not None,
        safety_flagged=conversation.safety_flagged_at is not None,
        now=now,
    )


def _respond(conversation: Conversation, now: datetime) -> Message:
    responder = import_string(settings.CHAT_RESPONDER)()
    history = list(
        conversation.messages.order_by("created_at", "pk").values_list("role", "content")
    )
    reply = responder.reply(history)
    return Message.objects.create(
        conversation=conversation, role=Role.ASSISTANT, content=reply, created_at=now
    )


def _classify_after_commit(conversation: Conversation) -> None:
    """New content may need a safety review: the configured classifier runs in a worker."""
    from retention.services import conversation_safety_classify_enqueue

    conversation_safety_classify_enqueue(conversation=conversation)


@transaction.atomic
def conversation_start(*, user, text: str) -> Conversation:
    """Start a conversation with the user's first message and the assistant's reply."""
    now = timezone.now()
    title = " ".join(text.split())[:TITLE_LENGTH] or "New conversation"
    conversation = Conversation(user=user, title=title, created_at=now)
    _record_activity(conversation, now)
    conversation.save()
    Message.objects.create(conversation=conversation, role=Role.USER, content=text, created_at=now)
    _respond(conversation, now)
    _classify_after_commit(conversation)
    return conversation


@transaction.atomic
def message_post(*, conversation: Conversation, text: str) -> tuple[Message, Message]:
    """Post to a conversation (which reopens an old one) and get the assistant's reply."""
    now = timezone.now()
    question = Message.objects.create(
        conversation=conversation, role=Role.USER, content=text, created_at=now
    )
    answer = _respond(conversation, now)
    _record_activity(conversation, now)
    conversation.save(update_fields=["last_activity_at", "covered_by", "retain_until"])
    _classify_after_commit(conversation)
    return question, answer


@transaction.atomic
def conversation_delete(*, conversation: Conversation) -> None:
    """Delete at once, messages included; training uses already recorded stay in the ledger.

    Under a legal hold the owner's delete only hides it: it leaves training and the
    owner's view now, and the first purge after the hold ends removes it.
    """
    from retention.selectors import conversation_is_held

    locked = Conversation.objects.select_for_update().get(pk=conversation.pk)
    if conversation_is_held(locked):
        now = timezone.now()
        locked.deleted_by_user_at = now
        locked.retain_until = now
        locked.save(update_fields=["deleted_by_user_at", "retain_until"])
        return
    # Set-based: no ORM collector loading every message into memory.
    Message.objects.filter(conversation_id=locked.pk)._raw_delete(Message.objects.db)
    Conversation.objects.filter(pk=locked.pk).delete()


_LOOK_UP = object()


def conversation_retention_recompute_for_user(
    *, user, now: datetime | None = None, policy=None, opt_in_since=_LOOK_UP
) -> int:
    """Recompute retain_until of every conversation of the user in one UPDATE.

    Covered means: activity while the user's present, unbroken opt-in was in force
    (``covered_by`` on or after ``opt_in_since``). Anything else gets opt-out retention.
    The consent service passes the policy and ``opt_in_since`` it has just written, so a
    decision costs no second look-up of either.
    """
    conversations = Conversation.objects.filter(user=user, deleted_by_user_at__isnull=True)
    # Most decisions are a new user's first, with nothing to recompute; asking costs far
    # less than compiling the CASE update below.
    if not conversations.exists():
        return 0
    now = now or timezone.now()
    policy = policy or current_policy(now=now)
    opt_in, opt_out = _retention_periods(now, policy)
    if opt_in_since is _LOOK_UP:
        state = (
            UserConsentState.objects.filter(user=user, policy=policy, choice=Choice.OPT_IN)
            .select_related("opt_in_since")
            .first()
            if policy
            else None
        )
        opt_in_since = state.opt_in_since if state else None
    opt_out_until = ExpressionWrapper(
        F("last_activity_at") + Value(opt_out), output_field=DateTimeField()
    )
    if opt_in_since is None:
        base = opt_out_until
    else:
        in_run = ConsentRecord.objects.filter(
            user=user, decided_at__gte=opt_in_since.decided_at
        ).values("pk")
        base = Case(
            When(
                covered_by__in=in_run,
                then=ExpressionWrapper(
                    F("last_activity_at") + Value(opt_in), output_field=DateTimeField()
                ),
            ),
            default=opt_out_until,
            output_field=DateTimeField(),
        )
    extension = Value(_safety_extension())
    return conversations.update(
        retain_until=Case(
            When(
                safety_flagged_at__isnull=False,
                then=ExpressionWrapper(base + extension, output_field=DateTimeField()),
            ),
            default=base,
            output_field=DateTimeField(),
        )
    )
