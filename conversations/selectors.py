from datetime import datetime

from django.db.models import BooleanField, Case, Count, QuerySet, Value, When
from django.shortcuts import get_object_or_404
from django.utils import timezone

from consent.models import Policy
from consent.selectors import current_policy

from . import rules
from .models import Conversation


def with_coverage(queryset: QuerySet[Conversation], *, policy: Policy | None) -> QuerySet:
    """Each row annotated ``is_covered``: the coverage rule (``rules.covered_q``) in the
    same query, so a page of conversations costs no query per row."""
    return queryset.annotate(
        is_covered=Case(
            When(rules.covered_q(policy=policy), then=Value(True)),
            default=Value(False),
            output_field=BooleanField(),
        )
    )


def conversation_list_for(
    user, *, policy: Policy | None = None, now: datetime | None = None
) -> QuerySet[Conversation]:
    """The user's conversations, newest activity first, with their message counts and
    whether each is covered under ``policy`` (the current one unless given)."""
    if policy is None:
        policy = current_policy(now=now or timezone.now())
    conversations = (
        Conversation.objects.filter(user=user, deleted_by_user_at__isnull=True)
        .annotate(message_count=Count("messages"))
        .order_by("-last_activity_at", "-pk")
    )
    return with_coverage(conversations, policy=policy)


def conversation_get_for(
    user, conversation_id: int, *, policy: Policy | None = None, now: datetime | None = None
) -> Conversation:
    """One of the user's own conversations, annotated ``is_covered`` under ``policy`` (the
    current one unless given); another user's gives 404, never 403 (no probing)."""
    if policy is None:
        policy = current_policy(now=now or timezone.now())
    conversations = with_coverage(Conversation.objects.select_related("user"), policy=policy)
    return get_object_or_404(
        conversations, pk=conversation_id, user=user, deleted_by_user_at__isnull=True
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
