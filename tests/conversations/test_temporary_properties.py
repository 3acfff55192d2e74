"""DESIGN §4 rule 8 over random histories: a temporary chat never appears in a training
snapshot and never outlives ``opt_out_retention``.

A hypothesis state machine drives the real services: people opt in and out, start normal
and temporary chats, reply to any of them, get safety-flagged, let time pass, purge and
export. After every step, for every temporary chat still stored: it is not covered, not
eligible (the export's selector and the API, reason ``temporary``), its ``retain_until``
is at most ``last_activity_at + opt_out_retention``, and no purge has left one behind
past that instant. Every snapshot taken holds none of them.
"""

import itertools
import secrets
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from api.selectors import IneligibleReason, conversation_training_eligibility
from consent.models import Choice, Surface
from consent.services import consent_record_create
from conversations.models import Conversation
from conversations.safety import conversation_safety_flag
from conversations.services import conversation_start, message_post
from retention.services import retention_purge_run
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory
from training.models import TrainingUse
from training.selectors import eligible_conversations
from training.services import training_snapshot_export

pytestmark = pytest.mark.django_db

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OPT_OUT_RETENTION = timedelta(days=30)
ADVANCES = st.one_of(
    st.sampled_from([timedelta(days=29), timedelta(days=30), timedelta(days=31)]),
    st.integers(min_value=1, max_value=90 * 24).map(lambda hours: timedelta(hours=hours)),
)


def _pick(items, index: int):
    ordered = sorted(items)
    return ordered[index % len(ordered)]


class TemporaryChatMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Each example in a savepoint that teardown rolls back (SQLite and PostgreSQL).
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.travel = time_machine.travel(START, tick=False)
        self.clock = self.travel.start()
        self.export_dir = Path(tempfile.mkdtemp(prefix="temporary-"))
        self.exports = itertools.count(1)
        self.policy = PolicyFactory(
            effective_at=START - timedelta(days=1),
            opt_in_retention=timedelta(days=1825),
            opt_out_retention=OPT_OUT_RETENTION,
        )
        # One person: rule 8 is about one owner's history of choices and chats.
        self.user = UserFactory(date_joined=START - timedelta(days=400))
        self.temporary_ids: set[int] = set()
        self.snapshot_ids: list[int] = []

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.travel.stop()
        shutil.rmtree(self.export_dir, ignore_errors=True)

    def tick(self) -> None:
        # Every step has its own instant: the coverage rule compares decision times.
        self.clock.shift(timedelta(seconds=1))

    def stored(self) -> list[int]:
        return list(Conversation.objects.values_list("pk", flat=True))

    def stored_temporary(self) -> list[int]:
        return list(Conversation.objects.filter(is_temporary=True).values_list("pk", flat=True))

    # --- Steps --------------------------------------------------------------------------------

    @rule(choice=st.sampled_from(list(Choice)))
    def decide(self, choice: str) -> None:
        self.tick()
        consent_record_create(
            user=self.user,
            policy=self.policy,
            choice=choice,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=timezone.now(),
        )

    @rule(temporary=st.booleans())
    def start(self, temporary: bool) -> None:
        self.tick()
        conversation = conversation_start(
            user=self.user, text="Tell me something", temporary=temporary
        )
        if temporary:
            self.temporary_ids.add(conversation.pk)

    @precondition(lambda self: self.stored())
    @rule(index=st.integers(min_value=0))
    def reply(self, index: int) -> None:
        self.tick()
        conversation = Conversation.objects.get(pk=_pick(self.stored(), index))
        message_post(conversation=conversation, text="One more thing")

    # Temporary chats only: a flag is what would keep one longer, so spend the steps there.
    @precondition(lambda self: self.stored_temporary())
    @rule(index=st.integers(min_value=0))
    def safety_flag(self, index: int) -> None:
        self.tick()
        conversation = Conversation.objects.get(pk=_pick(self.stored_temporary(), index))
        conversation_safety_flag(conversation=conversation)

    @rule(advance=ADVANCES)
    def time_passes(self, advance: timedelta) -> None:
        self.clock.shift(advance)

    @rule()
    def purge(self) -> None:
        self.tick()
        cutoff = timezone.now()
        retention_purge_run(now=cutoff)
        # After a purge at T, no temporary chat idle for longer than the period remains.
        assert not Conversation.objects.filter(
            pk__in=self.temporary_ids, last_activity_at__lt=cutoff - OPT_OUT_RETENTION
        ).exists()

    @rule()
    def export(self) -> None:
        self.tick()
        out = self.export_dir / f"snapshot-{next(self.exports)}.jsonl"
        self.snapshot_ids.append(training_snapshot_export(out_path=out).pk)

    # --- Rule 8 -------------------------------------------------------------------------------

    @invariant()
    def no_temporary_chat_is_ever_covered_or_eligible(self) -> None:
        now = timezone.now()
        assert not eligible_conversations(now=now).filter(pk__in=self.temporary_ids).exists()
        stored = Conversation.objects.filter(pk__in=self.temporary_ids)
        assert not stored.filter(covered_by__isnull=False).exists()
        for conversation_id in stored.values_list("pk", flat=True):
            answer = conversation_training_eligibility(conversation_id=conversation_id, now=now)
            assert answer.reason == IneligibleReason.TEMPORARY

    @invariant()
    def no_temporary_chat_outlives_the_opt_out_period(self) -> None:
        for conversation in Conversation.objects.filter(pk__in=self.temporary_ids):
            assert conversation.is_temporary
            assert conversation.retain_until <= conversation.last_activity_at + OPT_OUT_RETENTION

    @invariant()
    def no_snapshot_holds_a_temporary_chat(self) -> None:
        used = TrainingUse.objects.filter(snapshot_id__in=self.snapshot_ids)
        assert not used.filter(conversation_id__in=self.temporary_ids).exists()


def test_temporary_chats_are_never_trained_on_nor_kept_past_the_opt_out_period():
    run_state_machine_as_test(
        TemporaryChatMachine,
        settings=settings(
            max_examples=40,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
