"""A "Not now" on the existing-user notice: never past the deadline, never for new users."""

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from .. import errors
from ..errors import ConsentError
from ..models import (
    ConsentRecord,
    NoticeDeferral,
    Policy,
    ServedNotice,
    Surface,
    UsedFormKey,
    UserConsentState,
)
from ..selectors import SESSION_DEFERRED_KEY, policy_basis
from .decision_forms import decision_form_load, form_targets
from .guards import policy_live, policy_live_check, user_lock
from .surfaces import form_serving_of, serving_to_insert


@dataclass(frozen=True)
class Deferral:
    """What a posted "Not now" came to: a new deferral, or the answer an earlier submit gave."""

    deferral: NoticeDeferral | None  # None for a replay whose deferral is gone
    replayed: bool
    recorded_at: datetime  # when the form's "Not now" was first recorded
    current_choice: str | None  # the user's choice now, under the live policy


def _current_choice(user, live: Policy) -> str | None:
    return (
        UserConsentState.objects.filter(user=user, policy_id__in=policy_basis(live).version_ids)
        .values_list("choice", flat=True)
        .first()
    )


@transaction.atomic
def notice_defer(
    *,
    user,
    policy: Policy,
    form_key: str,
    session=None,
    variant=None,
    arm=None,
    served_id: uuid.UUID | None = None,
    form_serving: ServedNotice | None = None,
) -> Deferral:
    """Record a "Not now", once per form key, under the user's lock and the live policy.

    ``served_id`` names the rendering answered (consent.ServedNotice); it must have been
    shown to this user. ``form_serving`` is that rendering as the signed form describes
    it, inserted if it is not written yet (``consent.services.surfaces.serving_to_insert``).
    """
    user_lock(user)
    served_to_user_id = (
        ServedNotice.objects.filter(pk=served_id).values_list("user_id", flat=True).first()
        if served_id is not None
        else None
    )
    serving = serving_to_insert(
        user=user,
        served_id=served_id,
        served_to_user_id=served_to_user_id,
        form_serving=form_serving,
    )
    now = timezone.now()
    live = policy_live(now=now)
    if ConsentRecord.objects.filter(form_key=form_key).exists():
        raise ConsentError(errors.FORM_ALREADY_USED, status=409, code="form_already_used")
    used = UsedFormKey.objects.filter(key=form_key).first()
    if used is not None:
        # A replayed "Not now": the first one already hid the notice; say what holds now.
        return Deferral(
            deferral=NoticeDeferral.objects.filter(user=user, policy=policy).first(),
            replayed=True,
            recorded_at=used.used_at,
            current_choice=_current_choice(user, live),
        )
    policy_live_check(policy, live=live)
    # The deadline and who is new follow the decision basis (an editorial version's own
    # dates change nothing).
    material = policy_basis(policy).material
    if now >= material.decision_deadline:
        raise ConsentError(errors.DEFER_PAST_DEADLINE, status=409, code="deadline_passed")
    if user.date_joined >= material.effective_at:
        raise ConsentError(errors.DEFER_NOT_ALLOWED, status=409, code="not_deferrable")
    UsedFormKey.objects.create(key=form_key, used_at=now)
    if serving is not None:
        ServedNotice.objects.bulk_create([serving], ignore_conflicts=True)  # the writer's may win
    hidden_until = min(
        now + timedelta(hours=settings.CONSENT_NOTICE_DEFER_HOURS), material.decision_deadline
    )
    deferral = NoticeDeferral.objects.create(
        user=user,
        policy=policy,
        variant=variant,
        arm=arm,
        deferred_at=now,
        hidden_until=hidden_until,
        served_notice_id=served_id,
    )
    if session is not None:
        session[SESSION_DEFERRED_KEY] = policy.version
    return Deferral(deferral=deferral, replayed=False, recorded_at=now, current_choice=None)


def notice_defer_submit(*, user, token: str, session=None) -> Deferral:
    """Check a posted "Not now" and record the deferral."""
    form = decision_form_load(token, user=user)
    if form.surface != Surface.EXISTING_NOTICE:
        raise ConsentError(errors.DEFER_NOT_ALLOWED, status=409, code="not_deferrable")
    policy, variant, arm = form_targets(form)
    return notice_defer(
        user=user,
        policy=policy,
        form_key=form.key,
        session=session,
        variant=variant,
        arm=arm,
        served_id=form.served_id,
        form_serving=form_serving_of(form, policy=policy, variant=variant, arm=arm),
    )
