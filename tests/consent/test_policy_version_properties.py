"""Policy versions over random histories (DESIGN §4 rule 2, hypothesis state machine).

Editorial and material versions are published, people decide, chat and stay undecided,
time passes past deadlines and the lockout task runs, in any order. After every step the
database is compared with a small pure-Python model of the rule:

- ``retain_until = last_activity_at + period``: the current basis's opt-in retention
  when covered (opted in, this basis, present run), the previous basis's opt-in retention
  while an opt-in under it is in its grace (before the current deadline), else the
  opt-out retention; checked whenever the lockout task has run since the last deadline
  passed or material version took effect (before it runs, a chat may still be on a
  longer retention: recomputing it is that task's job);
- an undecided person after a material deadline has no chat on the opt-in retention once
  the lockout task ran;
- an editorial version changes nobody's retain_until or gate status.
"""

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
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
from consent.models import ChangeKind, Choice, Surface
from consent.selectors import gate_status
from consent.services import consent_record_create, lockouts_record
from conversations.models import Conversation
from conversations.services import conversation_start, message_post
from tests.consent.factories import PolicyFactory

pytestmark = pytest.mark.django_db

START = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)
OPT_OUT = timedelta(days=30)
OPT_IN_CHOICES = [timedelta(days=1825), timedelta(days=730)]
CHOICES = st.sampled_from([Choice.OPT_IN, Choice.OPT_OUT])


@dataclass
class ModelPolicy:
    pk: int
    material: bool
    deadline: datetime
    opt_in: timedelta


@dataclass
class ModelUser:
    pk: int
    state_policy: int | None = None  # the version the latest decision was made under
    choice: str | None = None
    run: int | None = None


@dataclass
class ModelChat:
    pk: int
    owner: int
    last_activity_at: datetime
    run: int | None  # the owner's opt-in run the last activity fell in, if any


@dataclass
class Model:
    policies: list[ModelPolicy] = field(default_factory=list)  # oldest first
    users: dict[int, ModelUser] = field(default_factory=dict)
    chats: dict[int, ModelChat] = field(default_factory=dict)

    def groups(self) -> list[list[ModelPolicy]]:
        groups: list[list[ModelPolicy]] = []
        for policy in self.policies:
            if policy.material or not groups:
                groups.append([policy])
            else:
                groups[-1].append(policy)
        return groups

    def basis(self) -> list[ModelPolicy]:
        return self.groups()[-1]

    def previous(self) -> list[ModelPolicy] | None:
        groups = self.groups()
        return groups[-2] if len(groups) > 1 else None

    def decided_now(self, user: ModelUser) -> bool:
        return user.state_policy in {p.pk for p in self.basis()}

    def period(self, chat: ModelChat, now: datetime) -> timedelta:
        owner = self.users[chat.owner]
        basis, previous = self.basis(), self.previous()
        in_run = owner.choice == Choice.OPT_IN and chat.run is not None and chat.run == owner.run
        if in_run and owner.state_policy in {p.pk for p in basis}:
            return basis[0].opt_in
        if (
            in_run
            and previous is not None
            and owner.state_policy in {p.pk for p in previous}
            and now < basis[0].deadline
        ):
            return previous[0].opt_in
        return OPT_OUT


class PolicyVersionsMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()  # rolled back at teardown: a clean database
        self.atomic.__enter__()
        self.travel = time_machine.travel(START, tick=False)
        self.clock = self.travel.start()
        self.model = Model()
        self.runs = itertools.count(1)
        self.emails = itertools.count(1)
        self.versions = itertools.count(1)
        # A deadline passed or a material version took effect, and the lockout task has
        # not run since: retention may lag.
        self.lockout_pending = False

    def teardown(self) -> None:
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
        self.travel.stop()

    def tick(self, by: timedelta = timedelta(seconds=1)) -> datetime:
        deadline = self.model.basis()[0].deadline if self.model.policies else None
        before = timezone.now()
        self.clock.shift(by)
        if deadline is not None and before < deadline <= timezone.now():
            self.lockout_pending = True
        return timezone.now()

    def publish(self, *, material: bool, opt_in: timedelta, deadline_in: timedelta) -> None:
        now = self.tick()
        if not material:
            opt_in = self.model.basis()[0].opt_in
        policy = PolicyFactory(
            version=f"v{next(self.versions)}",
            change_kind=ChangeKind.MATERIAL if material else ChangeKind.EDITORIAL,
            effective_at=now,
            decision_deadline=now + deadline_in,
            opt_in_retention=opt_in,
            opt_out_retention=OPT_OUT,
        )
        self.model.policies.append(
            ModelPolicy(policy.pk, material, policy.decision_deadline, opt_in)
        )
        self.current = policy

    def undecided_users(self) -> list[ModelUser]:
        return [u for u in self.model.users.values() if not self.model.decided_now(u)]

    # --- Rules ----------------------------------------------------------------------------

    @initialize(choices=st.lists(st.none() | CHOICES, min_size=2, max_size=3))
    def people_join_before_the_first_version(self, choices: list[str | None]) -> None:
        for _ in choices:
            user = user_create(email=f"p{next(self.emails)}@example.com", password="pw-long-1")
            self.model.users[user.pk] = ModelUser(user.pk)
        self.tick()
        self.publish(material=True, opt_in=OPT_IN_CHOICES[0], deadline_in=timedelta(days=20))
        for user, choice in zip(self.model.users.values(), choices, strict=True):
            if choice is not None:
                self._decide(user, choice)

    @rule(
        material=st.booleans(),
        opt_in=st.sampled_from(OPT_IN_CHOICES),
        deadline_days=st.integers(min_value=1, max_value=40),
    )
    def publish_a_version(self, material: bool, opt_in: timedelta, deadline_days: int) -> None:
        if material:
            self.publish(material=True, opt_in=opt_in, deadline_in=timedelta(days=deadline_days))
            # An opt-in still in its grace is now two versions old: the lockout task's job.
            self.lockout_pending = True
            return
        before_retention = dict(Conversation.objects.values_list("pk", "retain_until"))
        before_gate = {pk: self._gate(pk) for pk in self.model.users}
        self.publish(material=False, opt_in=opt_in, deadline_in=timedelta(days=deadline_days))
        # An editorial version changes nobody's retain_until or gate status.
        assert dict(Conversation.objects.values_list("pk", "retain_until")) == before_retention
        assert {pk: self._gate(pk) for pk in self.model.users} == before_gate

    @precondition(lambda self: self.undecided_users() or self.model.users)
    @rule(index=st.integers(min_value=0), choice=CHOICES)
    def decide(self, index: int, choice: str) -> None:
        users = sorted(self.model.users)
        self._decide(self.model.users[users[index % len(users)]], choice)

    @rule(index=st.integers(min_value=0), reopen=st.booleans())
    def chat(self, index: int, reopen: bool) -> None:
        users = sorted(self.model.users)
        owner = self.model.users[users[index % len(users)]]
        if gate_status(user=self._user(owner.pk)).blocks:
            return  # the gate keeps a locked-out person from chatting
        now = self.tick()
        mine = [c for c in self.model.chats.values() if c.owner == owner.pk]
        if reopen and mine:
            chat = mine[index % len(mine)]
            message_post(conversation=Conversation.objects.get(pk=chat.pk), text="again")
        else:
            conversation = conversation_start(user=self._user(owner.pk), text="hello")
            chat = self.model.chats[conversation.pk] = ModelChat(
                conversation.pk, owner.pk, now, None
            )
        chat.last_activity_at = now
        # Activity falls in the owner's run when their opt-in covers it now (either basis).
        chat.run = (
            owner.run
            if self.model.period(ModelChat(0, owner.pk, now, owner.run), now) != OPT_OUT
            else None
        )

    @rule(days=st.integers(min_value=1, max_value=45))
    def time_passes(self, days: int) -> None:
        self.tick(timedelta(days=days))

    @rule(batch_size=st.integers(min_value=1, max_value=3))
    def lockout_task_runs(self, batch_size: int) -> None:
        self.tick()
        lockouts_record(batch_size=batch_size, max_batches=50)
        self.lockout_pending = False
        basis = self.model.basis()[0]
        if timezone.now() >= basis.deadline:
            for user in self.undecided_users():
                for chat in Conversation.objects.filter(user_id=user.pk):
                    assert chat.retain_until - chat.last_activity_at == OPT_OUT

    # --- Invariant --------------------------------------------------------------------------

    @invariant()
    def retain_until_follows_the_rule(self) -> None:
        if self.lockout_pending or not self.model.chats:
            return
        now = timezone.now()
        stored = dict(Conversation.objects.values_list("pk", "retain_until"))
        expected = {
            pk: chat.last_activity_at + self.model.period(chat, now)
            for pk, chat in self.model.chats.items()
        }
        assert stored == expected

    # --- Helpers ----------------------------------------------------------------------------

    def _user(self, pk: int):
        from django.contrib.auth import get_user_model

        return get_user_model().objects.get(pk=pk)

    def _gate(self, pk: int) -> tuple:
        status = gate_status(user=self._user(pk))
        return status.requirement, status.choice

    def _decide(self, user: ModelUser, choice: str) -> None:
        now = self.tick()
        consent_record_create(
            user=self._user(user.pk),
            policy=self.current,
            choice=choice,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=now,
        )
        continuing = self.model.decided_now(user) and user.choice == Choice.OPT_IN
        if choice == Choice.OPT_IN and not continuing:
            user.run = next(self.runs)
        elif choice == Choice.OPT_OUT:
            user.run = None
        user.state_policy, user.choice = self.current.pk, choice


def test_retention_and_status_follow_policy_versions_in_any_history():
    # The "long" profile (tests/conftest.py) sets its own size; only the
    # default run is trimmed to keep the suite quick.
    size = {"max_examples": 30, "stateful_step_count": 25}
    if settings.get_current_profile_name() != "default":
        size = {}
    run_state_machine_as_test(
        PolicyVersionsMachine,
        settings=settings(
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
            print_blob=True,
            **size,
        ),
    )
