"""Error messages the consent flows show; tests import these constants."""

from django.utils.translation import gettext_lazy as _

FORM_TAMPERED = _(
    "This consent form was changed or is not valid. Reload the page and decide again."
)
FORM_EXPIRED = _(
    "This consent form is too old. Reload the page to see the current version and decide again."
)
FORM_OTHER_USER = _(
    "This consent form was issued to a different account. Reload the page while signed in as yourself."
)
FORM_ALREADY_USED = _(
    "This consent form was already submitted with a different answer. Your first answer was saved; change it in Privacy settings."
)
POLICY_SUPERSEDED = _(
    "A newer version of the data policy has been published. Reload the page to read it and decide again."
)
VARIANT_NOT_OFFERED = _(
    "This consent design is not offered to you here. Reload the page and decide again."
)
DESIGN_CHANGED = _(
    "The wording of this screen was updated while you had it open, so nothing was recorded. "
    "Reload the page to read the current version and decide again."
)
INVALID_CHOICE = _("Choose one of the buttons in the form to record your decision.")
BUNDLE_NO_USERS = "Name at least one person: --user ID (repeatable) or --users-file FILE."
BUNDLE_UNKNOWN_USERS = "No account has these ids: {ids}. Check the ids and run again."
BUNDLE_UNKNOWN_POLICY = "No policy version is called “{version}”. Check --policy and run again."
BUNDLE_BAD_SINCE = "--since takes a date (2026-01-31) or a date and time with its zone (2026-01-31T09:00:00+00:00)."
BUNDLE_BAD_USERS_FILE = (
    "Line {line} of {path} is not a user id: put one number per line (# starts a comment)."
)
SHOWN_COPY_MISSING = _(
    "This decision was recorded before the exact screen shown was kept, so there is no copy "
    "of it. The receipt still names the policy version and the design's wording."
)
NO_POLICY = _("There is no data policy in effect yet, so there is nothing to decide.")
DEFER_PAST_DEADLINE = _(
    "The deadline to decide has passed, so this notice can no longer be postponed. Please choose now."
)
DEFER_NOT_ALLOWED = _("This screen cannot be postponed: please choose to continue.")
CONSENT_REQUIRED = _(
    "You need to decide whether your chats may be used for training before you continue."
)
DECIDE_ON_DECISION_SCREEN = _(
    "Your first answer to this version of the policy is given on the decision screen. "
    'Open it from Privacy settings with "Decide now"; after that you can change it here.'
)

DEFAULT_FAILS_LINT = (
    "“{variant}” cannot be the default for the EU/EEA/UK: it fails {rules}. "
    "Choose a design that passes, or make it the default for the rest of the world only."
)
DESIGN_IN_USE_FAILS_LINT = (
    "“{variant}” is the default for the EU/EEA/UK, and this copy would fail {rules}. "
    "Change the copy so it passes, or first make another design the EU/EEA/UK default."
)
DEFAULT_SWITCHED_OFF = (
    "“{variant}” is the default for the EU/EEA/UK and cannot be switched off. First make "
    "another design the EU/EEA/UK default."
)
DEFAULT_INACTIVE = (
    "“{variant}” is switched off (not active). Activate it before making it a default."
)
DEFAULT_UNKNOWN_GROUP = (
    "Choose the jurisdiction groups to set a default for: EU/EEA/UK, rest of world, or both."
)

TRANSLATION_IN_USE = (
    "People have already decided reading this {language} copy, so its words are evidence and "
    "cannot change. Make a new design, or publish a new policy version, for new wording."
)
TRANSLATION_FAILS_LINT = (
    "This {language} copy cannot be marked reviewed: it fails {rules}, which the English copy "
    "passes. Fix the wording, then tick “reviewed” again."
)
TRANSLATION_UNCHECKABLE = (
    "This {language} copy cannot be marked reviewed: the compliance lint has no phrase list "
    "for {language} yet (consent.compliance.WORDING)."
)


class ConsentError(Exception):
    """A decision that cannot be recorded; ``status`` is the HTTP status to answer with."""

    def __init__(self, message: str, *, status: int = 400, code: str = "invalid") -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.code = code
