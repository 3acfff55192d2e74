"""Translations of consent copy: checked before review, stamped when reviewed, locked once used.

A translation is shown only once reviewed (``consent.copy``). Reviewing runs the
compliance lint on that language's words (``consent.compliance.translation_findings``):
a translation that breaks a rule the English copy passes cannot be marked reviewed.
Once anyone has decided reading a translation (a ConsentRecord in that language), its
words are evidence and are locked, as a policy version's text is.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .. import errors
from ..compliance import NO_WITHDRAWAL, WORDING, translation_findings, wording_for
from ..copy import DESIGN_COPY_FIELDS, POLICY_COPY_FIELDS, design_with
from ..models import ConsentRecord, ModalVariantTranslation


def _language_name(translation) -> str:
    return translation.get_language_display()


def translation_in_use(translation) -> bool:
    """Whether someone decided reading this translation (its words are then evidence)."""
    if isinstance(translation, ModalVariantTranslation):
        used = ConsentRecord.objects.filter(
            variant_id=translation.variant_id, language=translation.language
        )
    else:
        used = ConsentRecord.objects.filter(
            policy_id=translation.policy_id, language=translation.language
        )
    return used.exists()


def _fields(translation) -> tuple[str, ...]:
    if isinstance(translation, ModalVariantTranslation):
        return DESIGN_COPY_FIELDS
    return POLICY_COPY_FIELDS


def _copy_changed(translation, stored) -> bool:
    return stored is not None and any(
        getattr(translation, name) != getattr(stored, name)
        for name in (*_fields(translation), "language")
    )


def _stored(translation):
    if translation.pk is None:
        return None
    return type(translation).objects.filter(pk=translation.pk).first()


def _lint_failures(translation) -> list[str]:
    """Titles of the rules the translation breaks that the English copy passes."""
    if isinstance(translation, ModalVariantTranslation):
        base = translation.variant
        return [
            f.rule.title
            for f in translation_findings(
                base, design_with(base, translation), translation.language
            )
        ]
    # A policy's text must say the choice can be withdrawn (GDPR Art. 7(3)) wherever the
    # English text does; the other rules read a design's structure.
    policy = translation.policy
    said_in_english = WORDING["en"].withdrawal.search(f"{policy.summary} {policy.body}")
    said_here = wording_for(translation.language).withdrawal.search(
        f"{translation.summary} {translation.body}"
    )
    return [NO_WITHDRAWAL.title] if said_in_english and not said_here else []


def translation_validate(translation, *, deleting: bool = False) -> None:
    """Refuse an edit of a translation in use, and a review of copy that fails the lint.

    Raises ValidationError with the message a reviewer reads (consent.errors).
    """
    language = _language_name(translation)
    stored = _stored(translation)
    changing = stored is not None and (deleting or _copy_changed(translation, stored))
    if changing and translation_in_use(stored):
        raise ValidationError(errors.TRANSLATION_IN_USE.format(language=language))
    if deleting or not translation.reviewed:
        return
    try:
        failures = _lint_failures(translation)
    except LookupError as exc:
        raise ValidationError(errors.TRANSLATION_UNCHECKABLE.format(language=language)) from exc
    if failures:
        raise ValidationError(
            errors.TRANSLATION_FAILS_LINT.format(language=language, rules="; ".join(failures))
        )


def translation_review_stamp(translation, *, reviewer) -> None:
    """Name the reviewer and the time of a review (a new tick, or reviewed words changed);
    clear both when the tick is removed. Call after ``translation_validate``."""
    stored = _stored(translation)
    if not translation.reviewed:
        translation.reviewed_by, translation.reviewed_at = None, None
        return
    newly = stored is None or not stored.reviewed or _copy_changed(translation, stored)
    if newly:
        translation.reviewed_by, translation.reviewed_at = reviewer, timezone.now()


@transaction.atomic
def translation_save(translation, *, reviewer):
    """Validate, stamp and save one translation (the service behind admin and seed data)."""
    translation_validate(translation)
    translation_review_stamp(translation, reviewer=reviewer)
    translation.save()
    return translation


@transaction.atomic
def translation_delete(translation) -> None:
    translation_validate(translation, deleting=True)
    translation.delete()
