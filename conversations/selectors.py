from datetime import datetime

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from consent.models import Choice, ConsentRecord, UserConsentState
from consent.selectors import current_policy

from .models import Conversation


def conversation_list_for(user) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, with their message counts."""
    return (
        Conversation.objects.filter(user=user, deleted_by_user_at__isnull=True)
        .annotate(message_count=Count("messages"))
        .order_by("-last_activity_at", "-pk")
    )


def conversation_get_for(user, conversation_id: int) -> Conversation:
    """One of the user's own conversations; another user's gives 404, never 403 (no probing)."""
    return get_object_or_404(
        Conversation.objects.select_related("user"),
        pk=conversation_id,
        user=user,
        deleted_by_user_at__isnull=True,
    )


def conversation_is_covered(conversation: Conversation, *, now: datetime) -> bool:
    """The coverage rule for one conversation: ``covered_by`` decided during the user's
    present opt-in run under the current policy (the test that
    ``conversation_retention_recompute_for_user`` applies to all of a user's conversations)."""
    if conversation.covered_by_id is None:
        return False
    policy = current_policy(now=now)
    if policy is None:
        return False
    state = (
        UserConsentState.objects.filter(
            user_id=conversation.user_id, policy=policy, choice=Choice.OPT_IN
        )
        .select_related("opt_in_since")
        .first()
    )
    if state is None or state.opt_in_since is None:
        return False
    return ConsentRecord.objects.filter(
        pk=conversation.covered_by_id,
        user_id=conversation.user_id,
        decided_at__gte=state.opt_in_since.decided_at,
    ).exists()
