"""Serving a consent screen: the writes its rendering implies, kept out of the template context."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.durability import insert_without_disk_wait

from ..copy import CopyLanguage, dialog_language
from ..designs import VariantChoice, design_source
from ..models import ModalVariant, Policy, ServedNotice, ShownCopy, Surface
from ..shown import ShownDialog, known_digests
from .decision_forms import DecisionForm, decision_form_issue
from .variants import variant_choice_guard


@dataclass(frozen=True)
class ServedScreen:
    """The design chosen for one rendering of a consent screen and its one-time form."""

    choice: VariantChoice
    form: DecisionForm
    language: CopyLanguage


def decision_screen_serve(
    *, user, policy: Policy, surface: str, requested_language: str | None = None
) -> ServedScreen:
    """Choose the design (a sticky experiment assignment), note the exposure, choose the
    language its copy is shown in (``consent.copy``), issue a form carrying that language."""
    # The guard stands behind every admin check: a failing design never reaches the EU/EEA/UK.
    designs = design_source()
    chosen = variant_choice_guard(
        user=user, surface=surface, chosen=designs.choose_variant(user, surface)
    )
    designs.exposure_record(user=user, choice=chosen)
    language = dialog_language(policy=policy, variant=chosen.variant, requested=requested_language)
    form = decision_form_issue(
        user=user,
        policy=policy,
        surface=surface,
        variant=chosen.variant,
        arm=chosen.arm,
        served_id=uuid.uuid4(),
        language=language.shown,
        requested_language=language.requested,
    )
    return ServedScreen(choice=chosen, form=form, language=language)


def settings_form_serve(
    *, user, policy: Policy, requested_language: str | None = None
) -> DecisionForm:
    """The one-step change form of privacy settings (no design: the page's own words, and
    the policy's in the language chosen by ``consent.copy``)."""
    language = dialog_language(policy=policy, variant=None, requested=requested_language)
    return decision_form_issue(
        user=user,
        policy=policy,
        surface=Surface.SETTINGS,
        variant=None,
        served_id=uuid.uuid4(),
        language=language.shown,
        requested_language=language.requested,
    )


def shown_copy_store(
    rendered: "str | ShownDialog", *, language: str | None = None, copy_digest: str | None = None
) -> str:
    """Keep the dialog as shown, once per distinct dialog, with the language of its consent
    copy and that copy's digest; returns its digest.

    ``rendered`` is the dialog as sent, or its ``ShownDialog`` when the caller has it
    already (consent.presenters keeps one per dialog). One ``INSERT … ON CONFLICT DO
    NOTHING`` for a dialog this process has not stored yet, nothing at all for one it has.
    """
    shown = rendered if isinstance(rendered, ShownDialog) else ShownDialog.of(rendered)
    known = known_digests.get()
    if shown.digest not in known:
        ShownCopy.objects.bulk_create(
            [
                ShownCopy(
                    digest=shown.digest,
                    html=shown.html,
                    created_at=timezone.now(),
                    language=language,
                    copy_digest=copy_digest,
                )
            ],
            ignore_conflicts=True,
        )
        # Remembered once committed: a rolled-back insert must be tried again.
        transaction.on_commit(lambda: known.add(shown.digest))
    return shown.digest


def served_notice_record(
    *,
    form: DecisionForm,
    policy: Policy,
    variant: ModalVariant | None,
    arm,
    rendered: "str | ShownDialog",
    language: str | None = None,
) -> ServedNotice:
    """Keep one rendering of a consent surface: what it showed, to whom, when, in which
    language. One insert per rendering (plus the shown copy's, the first time), committed
    without waiting for the disk (config.durability: the decision answering it does).

    The language kept is the one the consent copy was shown in, as the form carries it
    (``language`` only for forms issued without one), and the one asked for.
    """
    if form.served_id is None:
        raise ValueError("the form was issued without a serving id (decision_screen_serve)")
    shown_language = form.language or language or ""
    digest = shown_copy_store(
        rendered, language=shown_language or None, copy_digest=form.copy_digest
    )
    serving = ServedNotice(
        id=form.served_id,
        user_id=form.user_id,
        surface=form.surface,
        policy=policy,
        variant=variant,
        arm=arm,
        language=shown_language[:35],
        requested_language=form.requested_language,
        copy_digest=form.copy_digest,
        served_at=form.shown_at,
        shown_copy_id=digest,
    )
    insert_without_disk_wait(serving)
    return serving
