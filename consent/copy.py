"""Consent copy per language: which words a person is shown, and the digest that pins them.

English, the site default (``settings.LANGUAGE_CODE``), is the base copy on the design
and the policy rows themselves. Any other language is a row of
``ModalVariantTranslation`` / ``PolicyTranslation`` and is shown only once reviewed.
A dialog is shown in the person's language only when everything it quotes exists there
(the design's copy and the policy's title); otherwise the whole dialog is shown in the
site default with a note saying so, never half in one language and half in another
(GDPR Art. 12: clear and plain language the person can read).

This is the one place that decides; the decision screen, the notice, the privacy
settings change form, receipts and the policy page all ask it.
"""

import copy as shallow
import hashlib
import json
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import get_language_info, gettext, gettext_noop

from config.memo import ProcessMemo

from .models import ModalVariant, ModalVariantTranslation, Policy, PolicyTranslation

DESIGN_COPY_FIELDS = (
    "headline",
    "body",
    "accept_label",
    "decline_label",
    "toggle_label",
    "learn_more",
)
POLICY_COPY_FIELDS = ("title", "summary", "body")


def _reviewed_translations() -> dict[tuple[str, int, str], object]:
    designs = ModalVariantTranslation.objects.filter(reviewed=True)
    policies = PolicyTranslation.objects.filter(reviewed=True)
    found: dict[tuple[str, int, str], object] = {}
    for row in designs:
        found["design", row.variant_id, row.language] = row
    for row in policies:
        found["policy", row.policy_id, row.language] = row
    return found


# Read on every consent screen and changed a few times a year (config.memo). A stale memo
# cannot put unreviewed words into a record: the form carries the copy's digest and a
# submit whose copy no longer matches is refused (consent.services.decision_forms).
translations_memo: ProcessMemo[dict] = ProcessMemo("copy-translations", _reviewed_translations)


def base_language() -> str:
    return settings.LANGUAGE_CODE


def language_supported(language: str | None) -> str:
    """The product language for a request's language code ("de-at" → "de"), else the base."""
    try:
        return translation.get_supported_language_variant(language or "")
    except LookupError:
        return base_language()


def _translation(kind: str, pk: int, language: str):
    if language == base_language():
        return None
    return translations_memo.get().get((kind, pk, language))


def design_in(variant: ModalVariant, language: str) -> ModalVariant:
    """The design with its copy in ``language`` (a reviewed translation), else as it is.

    A copy of the row for reading and rendering only: nothing saves it.
    """
    found = _translation("design", variant.pk, language)
    return variant if found is None else design_with(variant, found)


def _with_copy(row, found, fields):
    """A copy of ``row`` (never saved) with ``fields`` taken from the translation ``found``."""
    translated = shallow.copy(row)
    for name in fields:
        setattr(translated, name, getattr(found, name))
    return translated


def design_with(variant: ModalVariant, found: ModalVariantTranslation) -> ModalVariant:
    """The design with ``found``'s copy, reviewed or not (to lint it before review)."""
    return _with_copy(variant, found, DESIGN_COPY_FIELDS)


def policy_in(policy: Policy, language: str) -> Policy:
    """The policy with its text in ``language`` (a reviewed translation), else as it is."""
    found = _translation("policy", policy.pk, language)
    return policy if found is None else policy_with(policy, found)


def policy_with(policy: Policy, found: PolicyTranslation) -> Policy:
    """The policy with ``found``'s text, reviewed or not."""
    return _with_copy(policy, found, POLICY_COPY_FIELDS)


def copy_digest(*, policy: Policy, variant: ModalVariant | None, language: str) -> str:
    """SHA-256 of the consent copy as shown in ``language``: the policy text's digest and
    the design's copy, both in that language. Stored on the form, the served notice, the
    shown copy and the record, so a record made in German pins the German words."""
    canonical = json.dumps(
        {
            "language": language,
            "policy": policy_in(policy, language).text_digest,
            "design": design_in(variant, language).snapshot() if variant is not None else None,
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


# Language names the fallback note gives, translated by this project's catalogs: Django's
# own Japanese catalog names English "英語(米国)", a region nobody chose.
LANGUAGE_NAMES = {"en": gettext_noop("English")}


@dataclass(frozen=True)
class CopyLanguage:
    """The language a person asked for and the one their consent copy is shown in."""

    requested: str
    shown: str

    @property
    def fallback(self) -> bool:
        return self.requested != self.shown

    def note(self) -> str:
        """The visible note of a fallback, in the language asked for; empty otherwise."""
        if not self.fallback:
            return ""
        with translation.override(self.requested):
            return gettext(
                "This notice isn't available in %(requested)s yet; it is shown in %(shown)s."
            ) % {
                "requested": get_language_info(self.requested)["name_local"],
                "shown": gettext(
                    LANGUAGE_NAMES.get(self.shown, get_language_info(self.shown)["name"])
                ),
            }


def dialog_language(
    *, policy: Policy, variant: ModalVariant | None, requested: str | None
) -> CopyLanguage:
    """The language a consent dialog (or the settings change form, ``variant=None``) is
    shown in: the one asked for if the design and the policy both have a reviewed
    translation in it (English always does), else the site default."""
    asked = language_supported(requested)
    complete = asked == base_language() or (
        _translation("policy", policy.pk, asked) is not None
        and (variant is None or _translation("design", variant.pk, asked) is not None)
    )
    return CopyLanguage(requested=asked, shown=asked if complete else base_language())


def policy_language(*, policy: Policy, requested: str | None) -> CopyLanguage:
    """The language the policy page shows a version in (the same rule, the policy alone)."""
    return dialog_language(policy=policy, variant=None, requested=requested)
