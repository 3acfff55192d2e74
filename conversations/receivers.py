"""Conversations' answers to other apps' signals (connected in ``ConversationsConfig.ready``)."""

from django.dispatch import receiver

from consent.signals import decision_recorded, opt_ins_lapsed

from .services import (
    conversation_retention_lapsed_recompute,
    conversation_retention_recompute_for_user,
)


@receiver(decision_recorded, dispatch_uid="conversations.retention_recompute")
def retention_recompute_on_decision(sender, *, user, policy, now, **kwargs) -> None:
    """A changed choice changes how long every conversation of the user is kept (rule 2)."""
    conversation_retention_recompute_for_user(user=user, now=now, policy=policy)


@receiver(opt_ins_lapsed, dispatch_uid="conversations.retention_recompute_lapsed")
def retention_recompute_lapsed(sender, *, policy, now, batch_size, max_batches, **kwargs) -> None:
    """Undecided past a material deadline: an earlier opt-in keeps no retention (rule 2)."""
    conversation_retention_lapsed_recompute(
        policy=policy, now=now, batch_size=batch_size, max_batches=max_batches
    )
