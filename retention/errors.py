"""Messages the retention services log, store and show; tests import these constants."""

SKIPPED_LOCKED = (
    "Another purge run holds the lock, so this one did nothing. It will be retried on the next "
    "schedule; to see the other run, open Retention runs in admin."
)
ABANDONED = (
    "This run stopped without finishing (its worker died or lost the lock); a later run "
    "continued where it left off."
)
LEASE_LOST = (
    "The purge lost its lock lease (a batch took longer than the lease); it stopped to avoid "
    "racing another run. Raise the lease or lower the batch size."
)
HOLD_TARGET_REQUIRED = (
    "Choose exactly one thing to hold: either a conversation or a user, not both."
)
HOLD_UNTIL_IN_PAST = "The hold would end in the past. Leave 'until' empty to hold until released."
HOLD_ALREADY_RELEASED = "This hold was already released."
PURGE_FAILED = (
    "The purge failed; it is recorded as a failed run in admin. Batches committed before the "
    "failure stay deleted and the next run continues from there."
)
