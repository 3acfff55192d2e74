"""What consent's verifier checks in this app's ledger (DESIGN §4 rule 7): every training
use names an opt-in record of that same user. Registered at start-up (``TrainingConfig.ready``),
so consent never imports training."""

from consent.verification import RecordReference, record_reference_register

from .models import TrainingUse


def _training_uses():
    return TrainingUse.objects.values_list("pk", "user_id", "consent_record_id").iterator(
        chunk_size=10_000
    )


record_reference_register(
    RecordReference(subject="training use", claim="names record", rows=_training_uses)
)
