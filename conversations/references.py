"""What consent's verifier checks in this app's table (DESIGN §4 rule 7): a conversation's
``covered_by`` names an opt-in record of its own owner. Registered at start-up
(``ConversationsConfig.ready``), so consent never imports conversations."""

from consent.verification import RecordReference, record_reference_register

from .models import Conversation


def _covered_conversations():
    return (
        Conversation.objects.filter(covered_by__isnull=False)
        .values_list("pk", "user_id", "covered_by_id")
        .iterator(chunk_size=10_000)
    )


record_reference_register(
    RecordReference(
        subject="conversation", claim="is covered by record", rows=_covered_conversations
    )
)
