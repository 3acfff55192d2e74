"""Error messages of the training export and data-rights flows; tests import these constants."""

from django.utils.translation import gettext_lazy as _

NO_POLICY = (
    "No data policy is in effect, so no conversation may be exported for training. "
    "Publish a policy first."
)
INVALID_SNAPSHOT_KEY = (
    "A snapshot key may hold only letters, digits, '-' and '_' (at most 64 characters). "
    "Choose another key."
)
FILE_BELONGS_TO_SNAPSHOT = (
    "That file is the record of an earlier training snapshot and is never overwritten. "
    "Choose another output path."
)
POLICY_CHANGED = (
    "The data policy in effect changed while this snapshot was being exported, so it was "
    "stopped and nothing was recorded. Start a new export: it will follow the new policy."
)
EXPORT_KEY_SPENT = (
    "An export with this snapshot key failed earlier; a key names one attempt at one "
    "snapshot. Start the export again with another key."
)
UNKNOWN_SNAPSHOT = "There is no finished snapshot with this key. Check the key in admin."
INVALID_CURSOR = (
    "This cursor was not issued for this snapshot's withdrawals. Start again without "
    "'since', or pass the cursor exactly as the last page returned it."
)
WRONG_PASSWORD = _(
    "That password is not right. Enter your current password to delete your account."
)


class TrainingExportError(Exception):
    """An export that cannot run; the message tells the operator what to do."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
