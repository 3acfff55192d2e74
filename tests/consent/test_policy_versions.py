"""Editorial and material policy versions (DESIGN §1, §4 rule 2): an editorial version
changes nobody's status or retention; across a material one an opt-in keeps its retention
until the new deadline and falls to the opt-out retention when the lockout task runs."""

import secrets
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from api.selectors import IneligibleReason, conversation_training_eligibility, user_consent_get
from consent.models import ChangeKind, Choice, DeadlineReminder, Lockout
from consent.receipts import consent_state
from consent.selectors import Requirement, decision_policy, gate_status, policy_basis
from consent.services import (
    deadline_reminders_send,
    lockouts_record,
    notice_defer,
)
from conversations.models import Conversation
from conversations.services import conversation_start, message_post
from tests.factories import settings_decision
from training.selectors import eligible_conversations

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db

DAY = timedelta(days=1)


def decide(user, policy, choice):
    return settings_decision(user, policy, choice)


def editorial_of(policy, **fields):
    """A wording fix to ``policy``, in effect now."""
    return PolicyFactory(
        change_kind=ChangeKind.EDITORIAL,
        effective_at=timezone.now(),
        decision_deadline=timezone.now() + 60 * DAY,
        opt_in_retention=policy.opt_in_retention,
        opt_out_retention=policy.opt_out_retention,
        **fields,
    )


def material_after(policy, *, deadline_in=14 * DAY):
    return PolicyFactory(
        effective_at=timezone.now(), decision_deadline=timezone.now() + deadline_in
    )


def kept_days(conversation) -> int:
    conversation.refresh_from_db()
    return (conversation.retain_until - conversation.last_activity_at).days


# --- The decision basis ---------------------------------------------------------------


def test_an_editorial_version_stands_on_the_material_version_it_amends(policy):
    wording_fix = editorial_of(policy)

    basis = policy_basis(wording_fix)

    assert basis.material == policy
    assert basis.version_ids == {policy.pk, wording_fix.pk}
    assert decision_policy() == policy


def test_the_first_version_is_material_whatever_it_says():
    first = PolicyFactory(change_kind=ChangeKind.EDITORIAL)

    assert policy_basis(first).material == first


def test_a_material_version_starts_a_new_basis_remembering_the_previous_one(policy):
    change = material_after(policy)

    basis = policy_basis(change)

    assert (basis.material, basis.version_ids) == (change, {change.pk})
    assert (basis.previous, basis.previous_version_ids) == (policy, {policy.pk})


# --- Editorial: nothing changes --------------------------------------------------------


def test_an_editorial_version_asks_nobody_again(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    editorial_of(policy)

    status = gate_status(user=existing_user)

    assert (status.requirement, status.choice) == (Requirement.NONE, Choice.OPT_IN)


def test_an_editorial_version_shows_no_notice_on_the_chat(client, existing_user, policy):
    decide(existing_user, policy, Choice.OPT_OUT)
    editorial_of(policy)
    client.force_login(existing_user)

    response = client.get(reverse("conversations:list"))

    assert response.status_code == 200
    assert b"data-consent-dialog" not in response.content


def test_an_editorial_version_keeps_the_chat_page_at_its_query_count(client, existing_user, policy):
    decide(existing_user, policy, Choice.OPT_OUT)
    client.force_login(existing_user)
    client.get(reverse("conversations:list"))  # warm the memos
    with CaptureQueriesContext(connection) as material_only:
        client.get(reverse("conversations:list"))
    editorial_of(policy)
    client.get(reverse("conversations:list"))  # the memos reload once
    with CaptureQueriesContext(connection) as with_wording_fix:
        client.get(reverse("conversations:list"))

    assert len(with_wording_fix.captured_queries) == len(material_only.captured_queries)


def test_a_notice_deferred_under_the_material_version_stays_deferred(existing_user, policy):
    notice_defer(user=existing_user, policy=policy, form_key=secrets.token_hex(16))
    editorial_of(policy)

    assert gate_status(user=existing_user).requirement == Requirement.NONE


def test_the_deadline_stays_the_material_versions(existing_user, policy):
    editorial_of(policy)  # its own deadline is 60 days away; the basis's is 29

    with time_machine.travel(policy.decision_deadline):
        status = gate_status(user=existing_user)

    assert status.requirement == Requirement.DEADLINE
    assert status.deadline == policy.decision_deadline


def test_joining_between_a_material_version_and_its_wording_fix_is_still_new(
    django_user_model, policy
):
    joined = django_user_model.objects.create_user("between@example.com", "pw-12345678")
    editorial_of(policy)

    assert gate_status(user=joined).requirement == Requirement.FIRST_LOGIN


def test_an_editorial_version_changes_no_retention_and_no_training_use(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    conversation = conversation_start(user=existing_user, text="covered")
    kept_until = Conversation.objects.get(pk=conversation.pk).retain_until
    wording_fix = editorial_of(policy)

    decide(existing_user, wording_fix, Choice.OPT_IN)  # re-affirming under the new wording

    assert Conversation.objects.get(pk=conversation.pk).retain_until == kept_until
    assert list(eligible_conversations()) == [conversation]


def test_records_keep_pointing_at_the_version_decided_under(existing_user, policy):
    record = decide(existing_user, policy, Choice.OPT_IN)
    editorial_of(policy)

    record.refresh_from_db()

    assert record.policy == policy


def test_a_withdrawal_under_a_wording_fix_is_a_withdrawal(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    withdrawal = decide(existing_user, editorial_of(policy), Choice.OPT_OUT)

    assert consent_state(withdrawal) == "dpv:ConsentWithdrawn"


def test_the_api_reports_a_decision_under_the_amended_version_as_current(existing_user, policy):
    record = decide(existing_user, policy, Choice.OPT_IN)
    editorial_of(policy)

    consent = user_consent_get(user_id=existing_user.pk, now=timezone.now())

    assert (consent.choice, consent.decided_at) == (Choice.OPT_IN, record.decided_at)


# --- Material: asked again; retention kept until the deadline ------------------------


def test_a_material_version_asks_everyone_again(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    material_after(policy)

    assert gate_status(user=existing_user).requirement == Requirement.NOTICE


def test_an_opt_in_keeps_its_retention_until_the_new_deadline_but_not_training_use(
    existing_user, policy
):
    decide(existing_user, policy, Choice.OPT_IN)
    conversation = conversation_start(user=existing_user, text="covered")
    change = material_after(policy)

    message_post(conversation=conversation, text="reopened before deciding again")

    assert kept_days(conversation) == 1825
    assert list(eligible_conversations()) == []
    reason = conversation_training_eligibility(conversation_id=conversation.pk, now=timezone.now())
    assert reason.reason == IneligibleReason.POLICY_SUPERSEDED
    assert policy_basis(change).material == change


def test_the_previous_opt_in_retention_ends_at_the_deadline_instant_itself(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    conversation = conversation_start(user=existing_user, text="covered")
    change = material_after(policy)

    # Reopened at the new deadline's very instant: the grace has ended (half-open, as the gate).
    with time_machine.travel(change.decision_deadline, tick=False):
        message_post(conversation=conversation, text="reopened at the deadline, undecided")

    assert kept_days(conversation) == 30


def test_an_undecided_user_falls_to_the_opt_out_retention_when_the_lockout_task_runs(
    existing_user, policy
):
    decide(existing_user, policy, Choice.OPT_IN)
    conversation = conversation_start(user=existing_user, text="covered")
    change = material_after(policy)

    with time_machine.travel(change.decision_deadline + timedelta(minutes=5)):
        assert kept_days(conversation) == 1825  # until the task runs
        lockouts_record()

    assert kept_days(conversation) == 30
    assert Lockout.objects.get().policy == change


def test_the_lockout_task_recomputes_in_bounded_batches(django_user_model, policy):
    users = [
        django_user_model.objects.create_user(
            f"u{i}@example.com", "pw-12345678", date_joined=policy.effective_at - 9 * DAY
        )
        for i in range(5)
    ]
    for user in users:
        decide(user, policy, Choice.OPT_IN)
        conversation_start(user=user, text="covered")
    change = material_after(policy)

    with time_machine.travel(change.decision_deadline + timedelta(minutes=5)):
        first = lockouts_record(batch_size=2, max_batches=2)
        second = lockouts_record(batch_size=2, max_batches=2)

    assert (first, second) == (4, 1)
    assert {kept_days(c) for c in Conversation.objects.all()} == {30}


def test_deciding_again_after_a_material_change_starts_a_new_opt_in_run(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    old = conversation_start(user=existing_user, text="from the earlier run")
    change = material_after(policy)

    decide(existing_user, change, Choice.OPT_IN)

    assert kept_days(old) == 30  # not reopened since: outside the new choice
    assert list(eligible_conversations()) == []


def test_deciding_before_the_deadline_resolves_the_question_for_good(existing_user, policy):
    decide(existing_user, policy, Choice.OPT_IN)
    change = material_after(policy)
    decide(existing_user, change, Choice.OPT_OUT)

    with time_machine.travel(change.decision_deadline + DAY):
        assert gate_status(user=existing_user).requirement == Requirement.NONE
        assert lockouts_record() == 0


# --- Reminders follow the basis --------------------------------------------------------


def test_a_wording_fix_sends_no_second_reminder(existing_user, policy):
    with time_machine.travel(policy.decision_deadline - 6 * DAY):
        deadline_reminders_send()
        editorial_of(policy)
        deadline_reminders_send()

    assert DeadlineReminder.objects.filter(user=existing_user).count() == 1
    assert len(mail.outbox) == 1


def test_an_opt_in_two_material_versions_old_keeps_nothing_once_the_lockout_task_runs(
    existing_user, policy
):
    decide(existing_user, policy, Choice.OPT_IN)
    conversation = conversation_start(user=existing_user, text="covered")
    second = material_after(policy)
    with time_machine.travel(timezone.now() + DAY):
        material_after(second)  # before the second version's deadline

        lockouts_record()

    assert kept_days(conversation) == 30
    assert not Lockout.objects.exists()  # nobody is locked out before the deadline
