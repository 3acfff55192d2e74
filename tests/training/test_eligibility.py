"""Which conversations may reach a training snapshot (DESIGN §4 rule 1)."""

from datetime import timedelta

import pytest
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api.selectors import conversation_training_eligibility
from consent.selectors import current_policy
from conversations.models import Conversation
from conversations.rules import retention_periods
from conversations.selectors import conversation_is_covered
from conversations.services import conversation_delete
from retention.services import hold_place
from tests.consent.factories import PolicyFactory
from training.data_rights import user_account_delete
from training.selectors import eligible_conversations

from .conftest import exported_ids

pytestmark = pytest.mark.django_db


def eligible_ids() -> set[int]:
    return set(eligible_conversations(now=timezone.now()).values_list("pk", flat=True))


def test_conversation_started_while_opted_in_is_eligible(person, decide, chat):
    alice = person()
    decide.opt_in(alice)

    conversation = chat(alice)

    assert eligible_ids() == {conversation.pk}


def test_opted_out_users_conversations_are_never_eligible(person, decide, chat):
    bob = person()
    decide.opt_out(bob)
    old = chat(bob)

    chat(reopen=old)
    chat(bob)

    assert eligible_ids() == set()


def test_undecided_users_conversations_are_never_eligible(person, policy, chat):
    chat(person())

    assert eligible_ids() == set()


def test_conversation_from_before_the_opt_in_is_not_eligible_until_reopened(person, decide, chat):
    alice = person()
    chat(alice)

    decide.opt_in(alice)

    assert eligible_ids() == set()


def test_conversation_reopened_after_the_opt_in_is_eligible(person, decide, chat):
    alice = person()
    before = chat(alice)
    decide.opt_in(alice)

    chat(reopen=before)

    assert eligible_ids() == {before.pk}


def test_conversation_opted_out_before_the_opt_in_stays_out_until_reopened(person, decide, chat):
    alice = person()
    decide.opt_out(alice)
    chat(alice)

    decide.opt_in(alice)

    assert eligible_ids() == set()


def test_deleted_conversation_is_not_eligible(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    kept, deleted = chat(alice), chat(alice)

    conversation_delete(conversation=deleted)

    assert eligible_ids() == {kept.pk}


def test_held_conversation_its_owner_deleted_is_not_eligible(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    held = chat(alice)
    hold_place(conversation=held, reason="Case 12")

    conversation_delete(conversation=held)  # under the hold: hidden, not removed

    assert Conversation.objects.filter(pk=held.pk, deleted_by_user_at__isnull=False).exists()
    assert eligible_ids() == set()


def test_conversation_pinned_to_another_persons_opt_in_is_not_eligible(person, decide, chat):
    alice, bob = person(), person()
    decide.opt_out(bob)
    conversation = chat(bob)
    alice_in = decide.opt_in(alice)

    Conversation.objects.filter(pk=conversation.pk).update(covered_by=alice_in)

    assert eligible_ids() == set()
    assert not conversation_is_covered(conversation, now=timezone.now())


def test_opt_out_withdraws_every_stored_conversation(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    chat(alice)
    chat(alice)

    decide.opt_out(alice)

    assert eligible_ids() == set()


def test_opt_in_again_does_not_revive_chats_covered_by_the_earlier_opt_in(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    chat(alice)
    decide.opt_out(alice)

    decide.opt_in(alice)

    assert eligible_ids() == set()


def test_chat_of_an_earlier_opt_in_run_is_eligible_again_once_reopened(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    first_run = chat(alice)
    decide.opt_out(alice)
    decide.opt_in(alice)

    chat(reopen=first_run)

    assert eligible_ids() == {first_run.pk}


def test_confirming_an_opt_in_keeps_earlier_chats_of_the_same_run_eligible(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    earlier = chat(alice)

    decide.opt_in(alice)

    assert eligible_ids() == {earlier.pk}


def test_opt_in_under_a_superseded_policy_makes_nothing_eligible(person, decide, chat, clock):
    alice = person()
    decide.opt_in(alice)
    chat(alice)

    PolicyFactory(effective_at=timezone.now() + timedelta(hours=1))
    clock.shift(timedelta(hours=2))

    assert eligible_ids() == set()


def test_pseudonymised_users_conversations_are_never_eligible(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    chat(alice)
    alice.pseudonymised_at = timezone.now()
    alice.save(update_fields=["pseudonymised_at"])

    assert eligible_ids() == set()


def test_only_the_opted_in_users_conversations_are_eligible(person, decide, chat):
    alice, bob = person(), person()
    decide.opt_in(alice)
    decide.opt_out(bob)

    mine = chat(alice)
    chat(bob)

    assert eligible_ids() == {mine.pk}


def test_no_policy_in_effect_makes_nothing_eligible(person, db):
    assert eligible_conversations(now=timezone.now()).count() == 0


def test_after_opting_out_no_later_snapshot_includes_the_user(person, decide, chat, export):
    alice, bob = person(), person()
    decide.opt_in(alice)
    decide.opt_in(bob)
    alices, bobs = chat(alice), chat(bob)
    first = export()

    decide.opt_out(alice)
    chat(alice)
    chat(reopen=alices)
    second = export()

    assert exported_ids(first) == {alices.pk, bobs.pk}
    assert exported_ids(second) == {bobs.pk}
    assert not second.uses.filter(user_id=alice.pk).exists()


def test_deleted_account_is_in_no_later_snapshot(person, decide, chat, export):
    alice = person()
    decide.opt_in(alice)
    chat(alice)

    user_account_delete(user=alice)

    assert export().conversation_count == 0


# --- Every caller of the coverage rule agrees (conversations.rules.covered_q) ---------------


def coverage_everywhere(conversation) -> dict[str, bool]:
    """Each place that asks "is this conversation covered?", answering for one conversation."""
    conversation.refresh_from_db()
    now = timezone.now()
    policy = current_policy(now=now)
    opt_in, _ = retention_periods(policy)
    return {
        "conversations.selectors.conversation_is_covered": conversation_is_covered(
            conversation, now=now
        ),
        "training.selectors.eligible_conversations": conversation.pk in eligible_ids(),
        "api.selectors.conversation_training_eligibility": conversation_training_eligibility(
            conversation_id=conversation.pk, now=now
        ).eligible,
        # retain_until as recomputed on the last decision (or set at the last activity).
        "retain_until uses the opt-in period": (
            conversation.retain_until == conversation.last_activity_at + opt_in
        ),
    }


def test_a_conversation_of_an_earlier_opt_in_run_is_covered_nowhere(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    first_run = chat(alice)
    decide.opt_out(alice)

    decide.opt_in(alice)

    assert coverage_everywhere(first_run) == dict.fromkeys(coverage_everywhere(first_run), False)


def test_a_conversation_of_the_present_opt_in_run_is_covered_everywhere(person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    decide.opt_out(alice)
    decide.opt_in(alice)

    present_run = chat(alice)

    assert coverage_everywhere(present_run) == dict.fromkeys(coverage_everywhere(present_run), True)


STEPS = st.lists(
    st.one_of(
        st.just(("decide", "opt_in")),
        st.just(("decide", "opt_out")),
        st.just(("chat", None)),
        st.tuples(st.just("reopen"), st.integers(min_value=0, max_value=5)),
    ),
    max_size=8,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(steps=STEPS)
def test_every_caller_of_the_coverage_rule_gives_the_same_answer(person, decide, chat, steps):
    # Given any interleaving of decisions, new chats and reopened chats (a fresh person per
    # example: the database is not rolled back between examples)
    someone = person()
    conversations = []
    for action, argument in steps:
        if action == "decide":
            decide(someone, argument)
        elif action == "chat":
            conversations.append(chat(someone))
        elif conversations:
            chat(reopen=conversations[argument % len(conversations)])

    # Then every conversation gets one answer from every place that asks
    for conversation in conversations:
        answers = coverage_everywhere(conversation)
        assert len(set(answers.values())) == 1, answers
