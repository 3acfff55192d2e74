"""The compliance lint of consent designs, re-exported from ``consent.compliance``.

The lint moved to consent because consent enforces it when it renders a design
(a protected user never sees a failing one); experiments keeps reading it from
here, so imports still point one way (experiments -> consent).
"""

from consent.compliance import (
    GDPR_COUNTRIES,
    NO_REJECT,
    NO_WITHDRAWAL,
    ONE_BUTTON_TWO_MEANINGS,
    PRE_TICKED,
    QUESTION_HIDDEN,
    RULES,
    UNEQUAL_PROMINENCE,
    UNLABELLED_SWITCH,
    Finding,
    Rule,
    Severity,
    allowed_in,
    audience_includes_gdpr,
    failing_findings,
    jurisdiction_group,
    variant_findings,
)

__all__ = [
    "GDPR_COUNTRIES",
    "NO_REJECT",
    "NO_WITHDRAWAL",
    "ONE_BUTTON_TWO_MEANINGS",
    "PRE_TICKED",
    "QUESTION_HIDDEN",
    "RULES",
    "UNEQUAL_PROMINENCE",
    "UNLABELLED_SWITCH",
    "Finding",
    "Rule",
    "Severity",
    "allowed_in",
    "audience_includes_gdpr",
    "failing_findings",
    "jurisdiction_group",
    "variant_findings",
]
