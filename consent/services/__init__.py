"""Writes for consent, by concern (DESIGN §2: writes go through services).

- ``decision_forms``: the signed one-time forms a consent screen issues and a submit loads;
- ``surfaces``: serving a consent screen (design choice, exposure, form) and keeping what
  each rendering showed (served notices, shown copies);
- ``decisions``: recording a decision (record + state, one transaction, DESIGN §4 rule 4);
- ``deferrals``: "Not now" on the existing-user notice;
- ``guards``: the user's lock and the live-policy check every write makes under it;
- ``chains``: verifying every user's hash chain;
- ``reminders``: deadline reminders and lockout bookkeeping;
- ``translations``: consent copy per language, linted before review, locked once used;
- ``variants``: the default design per jurisdiction group and the compliance gate in front of it.

Callers import from ``consent.services``; the names below are the public ones.
"""

from .chains import consent_chains_verify
from .decision_forms import (
    FORM_SALT,
    DecisionForm,
    RequestContext,
    Submission,
    choice_from_submission,
    decision_form_issue,
    decision_form_load,
)
from .decisions import (
    ChainTip,
    Decision,
    consent_decision_record,
    consent_decision_submit,
    consent_record_build,
    consent_record_create,
)
from .deferrals import Deferral, notice_defer, notice_defer_submit
from .policies import policy_version_validate
from .reminders import REMINDER_LEAD_TIMES, deadline_reminders_send, lockouts_record, reminder_email
from .surfaces import (
    ServedScreen,
    decision_screen_serve,
    served_notice_record,
    settings_form_serve,
    shown_copy_store,
)
from .translations import (
    translation_delete,
    translation_in_use,
    translation_review_stamp,
    translation_save,
    translation_validate,
)
from .variants import variant_choice_guard, variant_copy_validate, variant_make_default

__all__ = [
    "FORM_SALT",
    "REMINDER_LEAD_TIMES",
    "ChainTip",
    "Decision",
    "DecisionForm",
    "Deferral",
    "RequestContext",
    "ServedScreen",
    "Submission",
    "choice_from_submission",
    "consent_chains_verify",
    "consent_decision_record",
    "consent_decision_submit",
    "consent_record_build",
    "consent_record_create",
    "deadline_reminders_send",
    "decision_form_issue",
    "decision_form_load",
    "decision_screen_serve",
    "lockouts_record",
    "notice_defer",
    "notice_defer_submit",
    "policy_version_validate",
    "reminder_email",
    "served_notice_record",
    "settings_form_serve",
    "shown_copy_store",
    "translation_delete",
    "translation_in_use",
    "translation_review_stamp",
    "translation_save",
    "translation_validate",
    "variant_choice_guard",
    "variant_copy_validate",
    "variant_make_default",
]
