"""Consent changes, activity, deletion, purge and export in any order (DESIGN §4 rules 1-3).

A hypothesis state machine drives the real services through random interleavings and,
after every step, compares the database with a small pure-Python model of the rules:

1. a snapshot holds exactly the conversations whose owner is opted in now and whose last
   activity fell in the owner's present, unbroken opt-in run; content is redacted;
2. ``retain_until = last_activity_at + (opt-in period if so covered else opt-out period)``;
3. after a purge at T, no conversation with ``retain_until < T`` remains and none with
   ``retain_until >= T`` is gone (there are no holds in this model).

Bounded in the normal suite; ``pytest --hypothesis-profile=long`` runs many more and
longer interleavings (profiles are registered in tests/conftest.py).
"""

import itertools
import json
import secrets
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from accounts.services import user_create
from consent.models import Choice, Surface
from consent.services import consent_record_create
from conversations.models import Conversation
from conversations.services import conversation_delete, conversation_start, message_post
from retention.services import retention_purge_run
from tests.consent.factories import PolicyFactory
from training.data_rights import user_account_delete
from training.models import TrainingUse
from training.selectors import eligible_conversations
from training.services import training_snapshot_export
from training.storage import snapshot_lines

pytestmark = pytest.mark.django_db

START = datetime(2027, 1, 4, 9, 0, tzinfo=UTC)
OPT_IN_RETENTION = timedelta(days=1825)
OPT_OUT_RETENTION = timedelta(days=30)
MAX_USERS = 3
CHOICES = st.sampled_from([Choice.OPT_IN, Choice.OPT_OUT])
EMAIL = "leak.me@example.com"
PHONE_DIGITS = "555 0132"
TEXTS = [
    "How do I bake bread?",
    f"Send the draft to {EMAIL} please",
    f"My number is +1 415 {PHONE_DIGITS}",
    "Summarise this article",
]
# Interesting distances: around the 30-day rule, a few hours, up to 400 days.
ADVANCES = st.one_of(
    st.sampled_from([timedelta(days=29), timedelta(days=30), timedelta(days=31)]),
    st.integers(min_value=1, max_value=400 * 24).map(lambda hours: timedelta(hours=hours)),
)


@dataclass
class ModelUser:
    pk: int
    choice: str | None = None
    # The current unbroken opt-in run (a new number at every opt-in after anything else).
    run: int | None = None
    latest_record_id: object = None
    pseudonymised: bool = False


@dataclass
class ModelConversation:
    pk: int
    owner: int
    last_activity_at: datetime
    covered_run: int | None
    covered_record_id: object
    messages: int = 2


@dataclass
class Model:
    users: dict[int, ModelUser] = field(default_factory=dict)
    conversations: dict[int, ModelConversation] = field(default_factory=dict)
    ledger: set[tuple[int, int]] = field(default_factory=set)  # (snapshot id, conversation id)

    def covered(self, conversation: ModelConversation) -> bool:
        owner = self.users[conversation.owner]
        return (
            owner.choice == Choice.OPT_IN
            and conversation.covered_run is not None
            and conversation.covered_run == owner.run
        )

    def eligible(self) -> set[int]:
        return {
            pk
            for pk, conversation in self.conversations.items()
            if self.covered(conversation) and not self.users[conversation.owner].pseudonymised
        }

    def retain_until(self, conversation: ModelConversation) -> datetime:
        period = OPT_IN_RETENTION if self.covered(conversation) else OPT_OUT_RETENTION
        return conversation.last_activity_at + period


def _pick(items, index: int):
    ordered = sorted(items)
    return ordered[index % len(ordered)]


class LifecycleMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # Every example runs inside a savepoint that teardown rolls back: a clean
        # database per example on SQLite and PostgreSQL, without flushing tables.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.travel = time_machine.travel(START, tick=False)
        self.clock = self.travel.start()
        self.export_dir = Path(tempfile.mkdtemp(prefix="lifecycle-"))
        self.policy = PolicyFactory(
            effective_at=START - timedelta(days=1),
            opt_in_retention=OPT_IN_RETENTION,
            opt_out_retention=OPT_OUT_RETENTION,
        )
        self.model = Model()
        self.runs = itertools.count(1)
        self.emails = itertools.count(1)
        self.exports = itertools.count(1)

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.travel.stop()
        shutil.rmtree(self.export_dir, ignore_errors=True)

    # Every step takes a second: each decision and activity gets its own instant, as in
    # production; the coverage rule compares decision times.
    def tick(self) -> datetime:
        self.clock.shift(timedelta(seconds=1))
        return self.now()

    @staticmethod
    def now() -> datetime:
        return timezone.now()

    def live_users(self) -> list[int]:
        return [pk for pk, user in self.model.users.items() if not user.pseudonymised]

    def decided_users(self) -> list[int]:
        return [pk for pk in self.live_users() if self.model.users[pk].choice is not None]

    # --- Rules ------------------------------------------------------------------------------

    @initialize(first_choices=st.lists(st.none() | CHOICES, min_size=2, max_size=2))
    def two_people_sign_up(self, first_choices: list[str | None]) -> None:
        for choice in first_choices:
            self.sign_up()
            if choice is not None:
                self._decide(self.model.users[max(self.model.users)], choice)

    # Few people, many steps each: the interesting histories are one person's.
    @precondition(lambda self: len(self.live_users()) < MAX_USERS)
    @rule()
    def sign_up(self) -> None:
        self.tick()
        user = user_create(
            email=f"person{next(self.emails)}@example.com", password="pw-long-enough"
        )
        self.model.users[user.pk] = ModelUser(pk=user.pk)

    @precondition(lambda self: self.live_users())
    @rule(index=st.integers(min_value=0), choices=st.lists(CHOICES, min_size=1, max_size=3))
    def decide(self, index: int, choices: list[str]) -> None:
        """Decisions a second apart: a first one, confirmations, changes of mind."""
        model_user = self.model.users[_pick(self.live_users(), index)]
        for choice in choices:
            self._decide(model_user, choice)

    @precondition(lambda self: self.decided_users())
    @rule(index=st.integers(min_value=0))
    def change_choice(self, index: int) -> None:
        """The one-step change in privacy settings: always the other answer."""
        model_user = self.model.users[_pick(self.decided_users(), index)]
        self._decide(
            model_user, Choice.OPT_OUT if model_user.choice == Choice.OPT_IN else Choice.OPT_IN
        )

    @precondition(lambda self: self.live_users())
    @rule(index=st.integers(min_value=0), text=st.sampled_from(TEXTS))
    def post(self, index: int, text: str) -> None:
        """A new conversation."""
        now = self.tick()
        owner = self.model.users[_pick(self.live_users(), index)]
        conversation = conversation_start(user=self._user(owner.pk), text=text)
        self.model.conversations[conversation.pk] = ModelConversation(
            pk=conversation.pk,
            owner=owner.pk,
            last_activity_at=now,
            covered_run=None,
            covered_record_id=None,
        )
        self._note_activity(self.model.conversations[conversation.pk], now)

    @precondition(lambda self: self.model.conversations)
    @rule(index=st.integers(min_value=0), text=st.sampled_from(TEXTS))
    def reopen(self, index: int, text: str) -> None:
        """A post to an old conversation."""
        now = self.tick()
        model_conversation = self.model.conversations[_pick(self.model.conversations, index)]
        message_post(conversation=Conversation.objects.get(pk=model_conversation.pk), text=text)
        model_conversation.messages += 2
        self._note_activity(model_conversation, now)

    @precondition(lambda self: self.model.conversations)
    @rule(index=st.integers(min_value=0))
    def delete(self, index: int) -> None:
        self.tick()
        pk = _pick(self.model.conversations, index)
        conversation_delete(conversation=Conversation.objects.get(pk=pk))
        del self.model.conversations[pk]

    @precondition(lambda self: self.live_users())
    @rule(index=st.integers(min_value=0))
    def delete_account(self, index: int) -> None:
        self.tick()
        model_user = self.model.users[_pick(self.live_users(), index)]
        user_account_delete(user=self._user(model_user.pk))
        model_user.pseudonymised = True
        for pk in [pk for pk, c in self.model.conversations.items() if c.owner == model_user.pk]:
            del self.model.conversations[pk]

    @rule(
        delta=ADVANCES,
        boundary=st.none()
        | st.tuples(
            st.integers(min_value=0),
            st.sampled_from([timedelta(seconds=-1), timedelta(0), timedelta(microseconds=1)]),
        ),
    )
    def advance_time(self, delta: timedelta, boundary) -> None:
        """Move on by ``delta``, or land exactly on, just before or just after some
        conversation's retain_until (when that is still ahead)."""
        if boundary is None or not self.model.conversations:
            self.clock.shift(delta)
            return
        index, offset = boundary
        conversation = self.model.conversations[_pick(self.model.conversations, index)]
        target = self.model.retain_until(conversation) + offset
        if target > self.now():
            self.clock.move_to(target)

    @rule()
    def purge(self) -> None:
        run = retention_purge_run()
        cutoff = run.cutoff
        for pk in [
            pk
            for pk, conversation in self.model.conversations.items()
            if self.model.retain_until(conversation) < cutoff
        ]:
            del self.model.conversations[pk]

    @rule()
    def export(self) -> None:
        self.tick()
        expected = self.model.eligible()
        snapshot = training_snapshot_export(
            out_path=self.export_dir / f"snapshot-{next(self.exports)}.jsonl"
        )
        uses = {use.conversation_id: use for use in TrainingUse.objects.filter(snapshot=snapshot)}
        assert set(uses) == expected
        for pk, use in uses.items():
            conversation = self.model.conversations[pk]
            assert use.user_id == conversation.owner
            assert use.consent_record_id == conversation.covered_record_id
        assert snapshot.message_count == sum(
            self.model.conversations[pk].messages for pk in expected
        )
        lines = list(snapshot_lines(snapshot))
        content = json.dumps(lines, ensure_ascii=False)
        assert EMAIL not in content and PHONE_DIGITS not in content
        assert [line["conversation_id"] for line in lines] == sorted(expected)
        self.model.ledger |= {(snapshot.pk, pk) for pk in uses}

    # --- Invariants, checked after every step --------------------------------------------------

    @invariant()
    def only_due_conversations_are_gone(self) -> None:
        """Rule 3 (and deletion): the database holds exactly the model's conversations."""
        assert set(Conversation.objects.values_list("pk", flat=True)) == set(
            self.model.conversations
        )

    @invariant()
    def retain_until_follows_the_rule(self) -> None:
        """Rule 2, for every stored conversation, whatever happened since its activity."""
        stored = dict(Conversation.objects.values_list("pk", "retain_until"))
        for pk, conversation in self.model.conversations.items():
            assert stored[pk] == self.model.retain_until(conversation), pk

    @invariant()
    def eligibility_follows_the_rule(self) -> None:
        """Rule 1: the selector every export reads agrees with the model at every moment."""
        eligible = eligible_conversations(now=self.now()).values_list("pk", flat=True)
        assert set(eligible) == self.model.eligible()

    @invariant()
    def ledger_is_never_lost(self) -> None:
        """What went into a snapshot stays recorded, after deletions and purges too."""
        assert set(TrainingUse.objects.values_list("snapshot_id", "conversation_id")) == (
            self.model.ledger
        )

    # --- Helpers ---------------------------------------------------------------------------------

    @staticmethod
    def _user(pk: int):
        return get_user_model().objects.get(pk=pk)

    def _decide(self, model_user: ModelUser, choice: str) -> None:
        now = self.tick()
        record = consent_record_create(
            user=self._user(model_user.pk),
            policy=self.policy,
            choice=choice,
            surface=Surface.FIRST_LOGIN if model_user.choice is None else Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=now,
        )
        if choice == Choice.OPT_IN and model_user.choice != Choice.OPT_IN:
            model_user.run = next(self.runs)
        elif choice == Choice.OPT_OUT:
            model_user.run = None
        model_user.choice = choice
        model_user.latest_record_id = record.pk

    def _note_activity(self, conversation: ModelConversation, now: datetime) -> None:
        owner = self.model.users[conversation.owner]
        conversation.last_activity_at = now
        opted_in = owner.choice == Choice.OPT_IN
        conversation.covered_run = owner.run if opted_in else None
        conversation.covered_record_id = owner.latest_record_id if opted_in else None


def lifecycle_settings() -> settings:
    """Bounded under the default profile; any other profile (e.g. ``long``) sets the counts.

    Steps run while hypothesis draws the next one, so database time counts as generation
    time: on a busy machine the too_slow health check would fail a correct run.
    """
    relaxed = {
        "deadline": None,
        "suppress_health_check": [HealthCheck.too_slow],
        "print_blob": True,  # a failure prints the @reproduce_failure line to replay it
    }
    if settings.get_current_profile_name() == "default":
        return settings(max_examples=25, stateful_step_count=30, **relaxed)
    return settings(**relaxed)


def test_consent_activity_purge_and_export_keep_rules_1_to_3_in_any_order():
    run_state_machine_as_test(LifecycleMachine, settings=lifecycle_settings())
