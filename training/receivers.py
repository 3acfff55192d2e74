"""Training's answers to conversations' signals (DESIGN §2: no import back into training)."""

from django.dispatch import receiver

from conversations.models import Conversation
from conversations.signals import owner_deleted

from .services import conversation_erasure_record


@receiver(owner_deleted, sender=Conversation)
def remember_erasure(sender, *, conversation_id: int, user_id: int, deleted_at, **kwargs) -> None:
    conversation_erasure_record(
        conversation_id=conversation_id, user_id=user_id, erased_at=deleted_at
    )
