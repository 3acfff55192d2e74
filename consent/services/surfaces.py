"""Serving a consent screen: the writes its rendering implies, kept out of the template context."""

import uuid
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from ..designs import VariantChoice, design_source
from ..models import ModalVariant, Policy, ServedNotice, ShownCopy, Surface
from ..shown import known_digests, shown_digest, shown_html
from .decision_forms import DecisionForm, decision_form_issue
from .variants import variant_choice_guard


@dataclass(frozen=True)
class ServedScreen:
    """The design chosen for one rendering of a consent screen and its one-time form."""

    choice: VariantChoice
    form: DecisionForm


def decision_screen_serve(*, user, policy: Policy, surface: str) -> ServedScreen:
    """Choose the design (a sticky experiment assignment), note the exposure, issue a form."""
    # The guard stands behind every admin check: a failing design never reaches the EU/EEA/UK.
    designs = design_source()
    chosen = variant_choice_guard(
        user=user, surface=surface, chosen=designs.choose_variant(user, surface)
    )
    designs.exposure_record(user=user, choice=chosen)
    form = decision_form_issue(
        user=user,
        policy=policy,
        surface=surface,
        variant=chosen.variant,
        arm=chosen.arm,
        served_id=uuid.uuid4(),
    )
    return ServedScreen(choice=chosen, form=form)


def settings_form_serve(*, user, policy: Policy) -> DecisionForm:
    """The one-step change form of privacy settings (no design: the page's own words)."""
    return decision_form_issue(
        user=user, policy=policy, surface=Surface.SETTINGS, variant=None, served_id=uuid.uuid4()
    )


def shown_copy_store(rendered: str) -> str:
    """Keep the dialog as shown, once per distinct dialog; returns its digest.

    One ``INSERT … ON CONFLICT DO NOTHING`` for a dialog this process has not stored yet,
    nothing at all for one it has.
    """
    html = shown_html(rendered)
    digest = shown_digest(html)
    known = known_digests.get()
    if digest not in known:
        ShownCopy.objects.bulk_create(
            [ShownCopy(digest=digest, html=html, created_at=timezone.now())],
            ignore_conflicts=True,
        )
        # Remembered once committed: a rolled-back insert must be tried again.
        transaction.on_commit(lambda: known.add(digest))
    return digest


def served_notice_record(
    *,
    form: DecisionForm,
    policy: Policy,
    variant: ModalVariant | None,
    arm,
    rendered: str,
    language: str,
) -> ServedNotice:
    """Keep one rendering of a consent surface: what it showed, to whom, when, in which
    language. One insert per rendering (plus the shown copy's, the first time)."""
    if form.served_id is None:
        raise ValueError("the form was issued without a serving id (decision_screen_serve)")
    digest = shown_copy_store(rendered)
    return ServedNotice.objects.create(
        id=form.served_id,
        user_id=form.user_id,
        surface=form.surface,
        policy=policy,
        variant=variant,
        arm=arm,
        language=(language or "")[:35],
        served_at=form.shown_at,
        shown_copy_id=digest,
    )
