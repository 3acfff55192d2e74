"""Demo data for the experiments dashboard: a running test of the three seeded designs.

``seed_experiment_demo`` creates simulated US users who joined after the current
policy took effect, assigns them with the real GrowthBook hashing, and writes
their assignments, exposures and decisions as rows consistent with every rule
the live system follows: each decision is a ``ConsentRecord`` hashed into its
user's chain with ``consent.chain.record_hash_compute``, with the matching
``UserConsentState``, and some users take their opt-in back in privacy settings
within a week. Rows are bulk-created because the simulated decisions happened
in the past, which the live services (rightly) cannot write.

Idempotent: a second call finds the experiment and changes nothing.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import transaction
from django.utils import timezone

from consent.evidence import records_log_append
from consent.models import Choice, ConsentRecord, ModalVariant, Surface, UserConsentState
from consent.selectors import current_policy
from consent.services import consent_record_build

from .hashing import assign_arm
from .models import Arm, Assignment, Audience, Experiment, ExperimentPhase, Exposure
from .services import experiment_launch

DEMO_KEY = "consent-designs-demo"
DEMO_EMAIL = "demo-experiment-{:05d}@example.com"
NO_POLICY = "Publish a data policy (effective now or earlier) before seeding the experiment demo."
MAX_SPAN = timedelta(days=21)


@dataclass(frozen=True)
class Behaviour:
    """How simulated people respond to one design (made-up, plausible numbers)."""

    decides: float
    # Toggle designs: share who touch the switch; two-button design: share who allow.
    touches_or_allows: float
    learn_more: float
    median_seconds: float
    reverses: float


BEHAVIOUR = {
    "two_buttons": Behaviour(0.92, 0.36, 0.16, 9.0, 0.02),
    # 13% of its opt-ins withdrawn within a week: the reversal rate the issue reports for it.
    "accept_toggle_on": Behaviour(0.95, 0.11, 0.06, 4.0, 0.13),
    "accept_toggle_off": Behaviour(0.94, 0.19, 0.08, 5.0, 0.02),
}


def _seconds_to_decide(rng: random.Random, median: float) -> float:
    seconds = rng.lognormvariate(math.log(median), 0.8)
    if rng.random() < 0.01:
        seconds *= 60  # the tab left open over lunch: what winsorising is for
    return seconds


# Browsers of the simulated people, for the breakdowns (language and device class).
LOCALES = (("en-US", 0.7), ("es-US", 0.2), ("zh-CN", 0.05), ("de-DE", 0.05))
USER_AGENTS = (
    (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/126.0 Safari/537.36",
        0.45,
    ),
    (
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148",
        0.3,
    ),
    (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36",
        0.15,
    ),
    ("Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", 0.1),
)


def _pick(rng: random.Random, options) -> str:
    values, weights = zip(*options, strict=True)
    return rng.choices(values, weights=weights)[0]


def _record(
    *,
    user_id: int,
    policy,
    previous: ConsentRecord | None,
    locale: str = "en-US",
    user_agent: str = USER_AGENTS[0][0],
    **fields,
) -> ConsentRecord:
    return consent_record_build(
        user_id=user_id,
        policy=policy,
        previous=previous,
        form_key=secrets.token_hex(16),
        user_agent=user_agent,
        locale=locale,
        jurisdiction="US",
        **fields,
    )


@transaction.atomic
def seed_experiment_demo(
    *, users: int = 1200, now: datetime | None = None, seed: int = 2026
) -> Experiment:
    """A running US-only experiment over the three designs, with ``users`` simulated new users."""
    existing = Experiment.objects.filter(key=DEMO_KEY).first()
    if existing is not None:
        return existing
    now = now or timezone.now()
    policy = current_policy(now=now)
    if policy is None:
        raise ValueError(NO_POLICY)
    start = max(policy.effective_at, now - MAX_SPAN)
    span = max((now - start).total_seconds(), 3600.0)
    start = now - timedelta(seconds=span)

    experiment = Experiment.objects.create(
        key=DEMO_KEY,
        name="Consent pop-up designs (demo)",
        hypothesis=(
            "The announcement's design (Accept, training switch on) gets far more opt-ins than "
            "two equal buttons; the guardrails show whether people knew what they agreed to."
        ),
        surface=Surface.FIRST_LOGIN,
        audience=Audience.NEW_USERS,
        countries=["US"],
        coverage=1.0,
        # Planned for large differences between very different designs: about 60
        # exposures a day over three arms detect a 35% relative change of a 35% opt-in
        # rate with 80% power in 17 days (experiments.power).
        planned_baseline_rate=0.35,
        planned_daily_exposures=60,
        target_mde=0.35,
        planned_power=0.8,
    )
    variants = {v.key: v for v in ModalVariant.objects.filter(key__in=BEHAVIOUR)}
    arms = Arm.objects.bulk_create(
        [
            Arm(
                experiment=experiment,
                variant=variants[key],
                weight=1.0,
                is_control=(i == 0),
                position=i,
            )
            for i, key in enumerate(["two_buttons", "accept_toggle_on", "accept_toggle_off"])
        ]
    )
    experiment_launch(experiment=experiment, now=start)
    phase = ExperimentPhase.objects.get(experiment=experiment, number=1)
    weights = [phase.weight_of(arm.pk) for arm in arms]

    rng = random.Random(seed)
    unusable = make_password(None)
    joined = sorted(start + timedelta(seconds=rng.uniform(60, span - 60)) for _ in range(users))
    User = get_user_model()
    User.objects.bulk_create(
        [
            User(
                email=DEMO_EMAIL.format(i),
                display_name=f"Demo user {i}",
                country="US",
                date_joined=at,
                password=unusable,
            )
            for i, at in enumerate(joined)
        ]
    )
    people = list(
        User.objects.filter(email__in=[DEMO_EMAIL.format(i) for i in range(users)]).order_by(
            "date_joined", "pk"
        )
    )

    assignments, exposures, records, states = [], [], [], []
    for person in people:
        index = assign_arm(
            seed=phase.seed, user_key=str(person.pk), weights=weights, coverage=experiment.coverage
        )
        if index is None:
            continue
        arm = arms[index]
        variant = arm.variant
        behaviour = BEHAVIOUR[variant.key]
        exposed_at = person.date_joined + timedelta(seconds=rng.uniform(2, 30))
        assignments.append(
            Assignment(experiment=experiment, user=person, arm=arm, phase=1, assigned_at=exposed_at)
        )
        exposures.append(
            Exposure(experiment=experiment, user=person, arm=arm, phase=1, exposed_at=exposed_at)
        )
        decided_at = exposed_at + timedelta(
            seconds=_seconds_to_decide(rng, behaviour.median_seconds)
        )
        if rng.random() > behaviour.decides or decided_at > now:
            continue
        browser = {"locale": _pick(rng, LOCALES), "user_agent": _pick(rng, USER_AGENTS)}
        acted = rng.random() < behaviour.touches_or_allows
        if variant.has_toggle:
            opted_in = variant.toggle_default != acted  # touching flips the switch from its default
            touched = acted
        else:
            opted_in, touched = acted, False
        first = _record(
            user_id=person.pk,
            policy=policy,
            previous=None,
            choice=Choice.OPT_IN if opted_in else Choice.OPT_OUT,
            surface=Surface.FIRST_LOGIN,
            variant=variant,
            arm=arm,
            toggle_touched=touched,
            learn_more_opened=rng.random() < behaviour.learn_more,
            shown_at=exposed_at,
            decided_at=decided_at,
            **browser,
        )
        records.append(first)
        latest, opt_in_since = first, first if opted_in else None
        reversal_at = decided_at + timedelta(days=rng.uniform(0.2, 6.5))
        if opted_in and rng.random() < behaviour.reverses and reversal_at <= now:
            latest = _record(
                user_id=person.pk,
                policy=policy,
                previous=first,
                choice=Choice.OPT_OUT,
                surface=Surface.SETTINGS,
                shown_at=reversal_at - timedelta(seconds=5),
                decided_at=reversal_at,
                **browser,
            )
            records.append(latest)
            opt_in_since = None
        states.append(
            UserConsentState(
                user=person,
                policy=policy,
                choice=latest.choice,
                latest_record=latest,
                tip_hash=latest.record_hash,
                opt_in_since=opt_in_since,
                decided_at=latest.decided_at,
            )
        )

    Assignment.objects.bulk_create(assignments, batch_size=1000)
    Exposure.objects.bulk_create(exposures, batch_size=1000)
    # Chain order: a reversal's ``previous`` must already exist when it is inserted.
    ConsentRecord.objects.bulk_create(
        [r for r in records if r.previous_id is None], batch_size=1000
    )
    ConsentRecord.objects.bulk_create(
        [r for r in records if r.previous_id is not None], batch_size=1000
    )
    UserConsentState.objects.bulk_create(states, batch_size=1000)
    records_log_append(records)
    return experiment
