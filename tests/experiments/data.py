"""Rows for analysis tests: exposures and decisions at chosen moments in the past.

The live services stamp everything with ``now``; analysis needs decisions days
apart, so tests write rows directly, keeping every record chained and hashed as
``consent_record_create`` would.
"""

import secrets
from datetime import datetime

from consent.models import ConsentRecord
from consent.services import consent_record_build
from experiments.models import Arm, Assignment, Exposure
from tests.factories import UserFactory


def expose(arm: Arm, *, at: datetime, user=None, phase: int = 1, assigned: bool = True):
    """A user assigned to ``arm`` and shown its design at ``at``."""
    user = user or UserFactory(country="US")
    if assigned:
        Assignment.objects.create(
            experiment=arm.experiment, user=user, arm=arm, phase=phase, assigned_at=at
        )
    Exposure.objects.create(
        experiment=arm.experiment, user=user, arm=arm, phase=phase, exposed_at=at
    )
    return user


def decide(
    user,
    policy,
    *,
    choice: str,
    at: datetime,
    shown_at: datetime | None = None,
    surface: str = "first_login",
    arm: Arm | None = None,
    toggle_touched: bool = False,
    learn_more_opened: bool = False,
    user_agent: str = "",
    locale: str = "",
) -> ConsentRecord:
    previous = ConsentRecord.objects.filter(user=user).order_by("-decided_at").first()
    record = consent_record_build(
        user_id=user.pk,
        policy=policy,
        choice=choice,
        surface=surface,
        variant=arm.variant if arm else None,
        arm=arm,
        toggle_touched=toggle_touched,
        learn_more_opened=learn_more_opened,
        shown_at=shown_at or at,
        decided_at=at,
        form_key=secrets.token_hex(16),
        previous=previous,
        user_agent=user_agent,
        locale=locale,
    )
    record.save(force_insert=True)
    return record
