"""Serving a consent screen: the writes its rendering implies, kept out of the template context."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.durability import RowsWrittenBehind, insert_without_disk_wait

from .. import errors
from ..copy import CopyLanguage, dialog_language
from ..designs import VariantChoice, design_source
from ..errors import ConsentError
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


# Renderings of the decision screen, written behind the request (config.durability).
servings_behind = RowsWrittenBehind(
    ServedNotice, window_setting="CONSENT_SERVINGS_WRITE_BEHIND_SECONDS"
)


def serving_of(
    form: DecisionForm,
    *,
    policy: Policy,
    variant: ModalVariant | None,
    arm,
    shown_copy_id: str | None = None,
    language: str | None = None,
) -> ServedNotice:
    """The serving row a form describes (unsaved): who was shown what, when, in which
    language. ``shown_copy_id`` defaults to the one the form carries."""
    shown_language = form.language or language or ""
    return ServedNotice(
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
        shown_copy_id=shown_copy_id or form.shown_copy_id,
    )


def form_serving_of(
    form: DecisionForm, *, policy: Policy, variant: ModalVariant | None, arm
) -> ServedNotice | None:
    """The serving a posted form describes, if it carries enough to (a serving id and what
    was shown): the row its answer inserts if the writer has not yet."""
    if form.served_id is None or not form.shown_copy_id:
        return None
    return serving_of(form, policy=policy, variant=variant, arm=arm)


def serving_to_insert(
    *, user, served_id: uuid.UUID | None, served_to_user_id: int | None, form_serving
) -> ServedNotice | None:
    """Check that an answer may link to the serving its form names, and say what to insert.

    ``served_to_user_id`` is the owner of the row under ``served_id``, None if there is
    none. A serving of this user's needs nothing; one not written yet (behind, or lost
    with its process) is inserted with the answer from ``form_serving``, the row the signed
    form describes (``serving_of``), if the form carries what it showed. Anything else
    (another person's serving, a form that cannot describe its own) is refused.
    """
    if served_id is None or served_to_user_id == user.pk:
        return None
    if (
        served_to_user_id is None
        and form_serving is not None
        and form_serving.pk == served_id
        and form_serving.user_id == user.pk
    ):
        return form_serving
    raise ConsentError(errors.FORM_OTHER_USER, status=403, code="form_other_user")


def served_notice_record(
    *,
    form: DecisionForm,
    policy: Policy,
    variant: ModalVariant | None,
    arm,
    rendered: "str | ShownDialog",
    language: str | None = None,
    written_behind: bool = False,
) -> ServedNotice:
    """Keep one rendering of a consent surface: what it showed, to whom, when, in which
    language. One insert per rendering (plus the shown copy's, the first time), committed
    without waiting for the disk (config.durability: the decision answering it does).

    ``written_behind`` hands the serving to this process's writer instead
    (``servings_behind``): only for a form that carries the digest of what it showed, so
    that its answer can insert the serving if the writer has not yet.

    The language kept is the one the consent copy was shown in, as the form carries it
    (``language`` only for forms issued without one), and the one asked for.
    """
    if form.served_id is None:
        raise ValueError("the form was issued without a serving id (decision_screen_serve)")
    digest = shown_copy_store(
        rendered, language=(form.language or language or None), copy_digest=form.copy_digest
    )
    serving = serving_of(
        form, policy=policy, variant=variant, arm=arm, shown_copy_id=digest, language=language
    )
    if not written_behind:
        insert_without_disk_wait(serving)
    elif form.shown_copy_id != digest:
        raise ValueError("a serving written behind needs a form carrying what it showed")
    else:
        servings_behind.add(serving)
    return serving
