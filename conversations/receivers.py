"""Conversations' answers to other apps' signals (connected in ``ConversationsConfig.ready``)."""

from django.dispatch import receiver

from consent.signals import decision_recorded

from .services import conversation_retention_recompute_for_user


@receiver(decision_recorded, dispatch_uid="conversations.retention_recompute")
def retention_recompute_on_decision(sender, *, user, policy, now, **kwargs) -> None:
    """A changed choice changes how long every conversation of the user is kept (rule 2)."""
    conversation_retention_recompute_for_user(user=user, now=now, policy=policy)
