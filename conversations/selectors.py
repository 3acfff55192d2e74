from datetime import datetime

from django.db.models import Count, QuerySet
from django.shortcuts import get_object_or_404

from consent.selectors import current_policy

from . import rules
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
    """Whether ``rules.covered_q`` holds for this conversation at ``now`` (one query)."""
    if conversation.covered_by_id is None:
        return False
    policy = current_policy(now=now)
    return (
        Conversation.objects.filter(pk=conversation.pk)
        .filter(rules.covered_q(policy=policy))
        .exists()
    )
