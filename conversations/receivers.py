"""Conversations' answers to other apps' signals (connected in ``ConversationsConfig.ready``)."""

from django.dispatch import receiver

from consent.signals import decision_recorded, lockouts_recorded

from .services import (
    conversation_retention_recompute_for_user,
    conversation_retention_recompute_for_users,
)


@receiver(decision_recorded, dispatch_uid="conversations.retention_recompute")
def retention_recompute_on_decision(sender, *, user, policy, now, **kwargs) -> None:
    """A changed choice changes how long every conversation of the user is kept (rule 2)."""
    conversation_retention_recompute_for_user(user=user, now=now, policy=policy)


@receiver(lockouts_recorded, dispatch_uid="conversations.retention_recompute_on_lockout")
def retention_recompute_on_lockout(sender, *, user_ids, policy, now, **kwargs) -> None:
    """Undecided past a material deadline: an earlier opt-in keeps no retention (rule 2)."""
    conversation_retention_recompute_for_users(user_ids=user_ids, now=now, policy=policy)
