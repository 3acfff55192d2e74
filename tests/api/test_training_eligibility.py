"""'May this conversation be used for training now?' (DESIGN §4 rule 1), with a reason when not."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conversations.services import conversation_delete
from tests.consent.factories import PolicyFactory
from training.selectors import eligible_conversations

pytestmark = pytest.mark.django_db


def eligibility(api, conversation_id) -> dict:
    response = api.get(
        reverse(
            "api:conversation_training_eligibility", kwargs={"conversation_id": conversation_id}
        )
    )
    assert response.status_code == 200
    return response.json()


def verdict(api, conversation_id) -> tuple[bool, str | None]:
    body = eligibility(api, conversation_id)
    return body["eligible"], body["reason"]


def test_conversation_started_while_opted_in_is_eligible(api, person, decide, chat):
    alice = person()
    record = decide.opt_in(alice)
    conversation = chat(alice)

    body = eligibility(api, conversation.pk)

    assert (body["eligible"], body["reason"]) == (True, None)
    assert body["covered_by_record_id"] == str(record.pk)
    assert body["user_id"] == alice.pk


def test_undecided_users_conversation_is_user_not_opted_in(api, person, policy, chat):
    conversation = chat(person())

    assert verdict(api, conversation.pk) == (False, "user_not_opted_in")


def test_opting_out_makes_every_stored_conversation_user_not_opted_in(api, person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)

    decide.opt_out(alice)

    assert verdict(api, conversation.pk) == (False, "user_not_opted_in")


def test_conversation_from_before_the_opt_in_is_not_covered_until_reopened(
    api, person, decide, chat
):
    alice = person()
    decide.opt_out(alice)
    conversation = chat(alice)
    decide.opt_in(alice)
    assert verdict(api, conversation.pk) == (False, "not_covered")

    chat(reopen=conversation)

    assert verdict(api, conversation.pk) == (True, None)


def test_opting_in_again_does_not_revive_the_earlier_run(api, person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)
    decide.opt_out(alice)

    decide.opt_in(alice)

    assert verdict(api, conversation.pk) == (False, "not_covered")


def test_opt_in_under_a_superseded_policy_is_policy_superseded(api, person, decide, chat, clock):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)

    PolicyFactory(effective_at=timezone.now())
    clock.shift(timedelta(seconds=1))

    assert verdict(api, conversation.pk) == (False, "policy_superseded")


def test_deleted_conversation_is_not_found(api, person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)

    conversation_delete(conversation=conversation)

    assert verdict(api, conversation.pk) == (False, "not_found")


def test_unknown_conversation_is_not_found_not_an_error(api, policy):
    body = eligibility(api, 987654321)

    assert (body["eligible"], body["reason"], body["user_id"]) == (False, "not_found", None)


def test_deleted_accounts_conversation_is_user_deleted(api, person, decide, chat):
    alice = person()
    decide.opt_in(alice)
    conversation = chat(alice)

    type(alice).objects.filter(pk=alice.pk).update(pseudonymised_at=timezone.now())

    assert verdict(api, conversation.pk) == (False, "user_deleted")


def test_malformed_conversation_id_is_422(api, policy):
    response = api.get(
        reverse("api:conversation_training_eligibility", kwargs={"conversation_id": "x1"})
    )

    assert response.status_code == 422


def test_answers_agree_with_what_a_training_export_would_take(api, person, decide, chat, clock):
    """One population with every reason; the API and the export's selector must agree."""
    covered, reopened, earlier_run, before_opt_in, opted_out, undecided, deleted_account = (
        person() for _ in range(7)
    )
    for user in (covered, reopened, earlier_run, before_opt_in, deleted_account):
        decide.opt_in(user)
    conversations = [chat(user) for user in (covered, reopened, earlier_run, deleted_account)]
    decide.opt_out(reopened)
    decide.opt_in(reopened)
    conversations.append(chat(reopen=conversations[1]))
    decide.opt_out(earlier_run)
    decide.opt_in(earlier_run)
    decide.opt_out(opted_out)
    conversations += [chat(opted_out), chat(undecided)]
    decide.opt_out(before_opt_in)
    conversations.append(chat(before_opt_in))
    decide.opt_in(before_opt_in)
    type(deleted_account).objects.filter(pk=deleted_account.pk).update(
        pseudonymised_at=timezone.now()
    )

    exportable = set(eligible_conversations(now=timezone.now()).values_list("pk", flat=True))
    answered = {c.pk for c in conversations if eligibility(api, c.pk)["eligible"]}

    assert answered == exportable
    assert answered == {conversations[0].pk, conversations[1].pk}
