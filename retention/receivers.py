"""Retention's answers to other apps' signals (connected in ``RetentionConfig.ready``)."""

from django.dispatch import receiver

from conversations.models import Conversation
from conversations.signals import owner_delete_held

from .selectors import conversation_is_held


@receiver(owner_delete_held, sender=Conversation, dispatch_uid="retention.owner_delete_held")
def keep_held_conversation(sender, *, conversation: Conversation, **kwargs) -> bool:
    """A legal hold outranks the owner's delete: True keeps the rows."""
    return conversation_is_held(conversation)
