"""GET /api/v1/snapshots/{key}/withdrawals and manage.py snapshot_withdrawals: what a
snapshot already taken may no longer use (ids only, keyset pages, the ledger untouched)."""

import json
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api import errors
from conversations.services import conversation_delete
from training import errors as training_errors
from training.data_rights import user_account_delete
from training.models import TrainingUse
from training.selectors import WITHDRAWAL_SETTLE, snapshot_withdrawals
from training.services import training_snapshot_export, user_pseudonym

pytestmark = pytest.mark.django_db

SETTLED = WITHDRAWAL_SETTLE + timedelta(seconds=1)


def url(key: str, **query) -> str:
    path = reverse("api:snapshot_withdrawals", kwargs={"snapshot_key": key})
    return path + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def snapshot(clock, tmp_path):
    """Export now (a second after the last step) under the key ``nightly``."""

    def take(key: str = "nightly"):
        clock.shift(timedelta(seconds=1))
        return training_snapshot_export(snapshot_key=key, out_path=tmp_path / f"{key}.json")

    return take


@pytest.fixture
def alice(person, decide):
    alice = person()
    decide.opt_in(alice)
    return alice


def entries(api, key: str = "nightly", **query) -> list[dict]:
    response = api.get(url(key, **query))
    assert response.status_code == 200, response.content
    return response.json()["withdrawals"]


def test_an_opt_out_after_the_snapshot_lists_the_conversation_by_ids_only(
    alice, chat, decide, snapshot, clock, api
):
    conversation = chat(alice)
    snapshot()
    record = decide.opt_out(alice)
    clock.shift(SETTLED)

    [entry] = entries(api)

    assert entry["conversation_id"] == conversation.pk
    assert entry["user"] == user_pseudonym(alice.pk)
    assert entry["reason"] == "opted_out"
    assert entry["withdrawn_at"] == record.decided_at.isoformat().replace("+00:00", "Z")
    assert set(entry) == {"conversation_id", "user", "reason", "withdrawn_at", "cursor"}


def test_deleting_the_conversation_after_the_snapshot_lists_it(alice, chat, snapshot, clock, api):
    conversation = chat(alice)
    snapshot()
    clock.shift(timedelta(seconds=1))
    conversation_delete(conversation=conversation)
    clock.shift(SETTLED)

    [entry] = entries(api)

    assert (entry["conversation_id"], entry["reason"]) == (conversation.pk, "conversation_deleted")


def test_deleting_the_account_after_the_snapshot_lists_every_conversation_of_it(
    alice, chat, snapshot, clock, api
):
    first, second = chat(alice), chat(alice)
    snapshot()
    clock.shift(timedelta(seconds=1))
    user_account_delete(user=alice)
    clock.shift(SETTLED)

    listed = entries(api)

    assert {(e["conversation_id"], e["reason"]) for e in listed} == {
        (first.pk, "account_deleted"),
        (second.pk, "account_deleted"),
    }


def test_the_first_withdrawal_is_the_one_listed_and_later_ones_add_nothing(
    alice, chat, decide, snapshot, clock, api
):
    conversation = chat(alice)
    snapshot()
    decide.opt_out(alice)
    decide.opt_in(alice)
    clock.shift(timedelta(seconds=1))
    conversation_delete(conversation=conversation)
    clock.shift(SETTLED)

    [entry] = entries(api)

    assert entry["reason"] == "opted_out"


def test_an_opt_out_before_the_snapshot_is_not_a_withdrawal_from_it(
    alice, chat, decide, snapshot, clock, api
):
    conversation = chat(alice)
    decide.opt_out(alice)
    decide.opt_in(alice)
    chat(reopen=conversation)  # covered again by the new opt-in
    snapshot()
    clock.shift(SETTLED)

    assert TrainingUse.objects.filter(conversation_id=conversation.pk).exists()
    assert entries(api) == []


def test_the_withdrawal_time_is_the_first_opt_out_after_the_use_not_an_earlier_one(
    alice, chat, decide, snapshot, clock, api
):
    conversation = chat(alice)
    decide.opt_out(alice)
    decide.opt_in(alice)
    chat(reopen=conversation)
    snapshot()
    again = decide.opt_out(alice)
    clock.shift(SETTLED)

    [entry] = entries(api)

    assert entry["withdrawn_at"] == again.decided_at.isoformat().replace("+00:00", "Z")


def test_a_withdrawal_is_listed_only_once_it_has_settled(alice, chat, decide, snapshot, clock, api):
    chat(alice)
    snapshot()
    decide.opt_out(alice)

    assert entries(api) == []
    clock.shift(SETTLED)
    assert len(entries(api)) == 1


def test_withdrawals_never_change_the_ledger(alice, chat, decide, snapshot, clock, api):
    chat(alice)
    taken = snapshot()
    before = list(TrainingUse.objects.values())
    decide.opt_out(alice)
    clock.shift(SETTLED)

    entries(api)

    assert list(TrainingUse.objects.values()) == before
    assert taken.uses.count() == 1


def test_polling_with_the_next_cursor_returns_only_what_is_new(
    alice, person, chat, decide, snapshot, clock, api
):
    bob = person()
    decide.opt_in(bob)
    chat(alice)
    bobs = chat(bob)
    snapshot()
    decide.opt_out(alice)
    clock.shift(SETTLED)
    first = api.get(url("nightly")).json()

    decide.opt_out(bob)
    clock.shift(SETTLED)
    second = api.get(url("nightly", since=first["next_cursor"])).json()
    third = api.get(url("nightly", since=second["next_cursor"])).json()

    assert [e["conversation_id"] for e in second["withdrawals"]] == [bobs.pk]
    assert third["withdrawals"] == [] and third["next_cursor"] == second["next_cursor"]


def test_an_empty_feed_has_no_cursor(alice, chat, snapshot, api):
    chat(alice)
    snapshot()

    body = api.get(url("nightly")).json()

    assert body == {"snapshot_key": "nightly", "withdrawals": [], "next_cursor": None}


@pytest.mark.parametrize(
    "since", ["garbage", "WyIyMDI2IiwgMV0:forged", "W10:cw"], ids=["noise", "forged", "empty"]
)
def test_a_cursor_the_feed_did_not_issue_is_refused(alice, chat, snapshot, api, since):
    chat(alice)
    snapshot()

    response = api.get(url("nightly", since=since))

    assert response.status_code == 400
    assert response.json()["code"] == errors.INVALID_CURSOR


def test_a_cursor_of_another_snapshot_is_refused(alice, chat, decide, snapshot, clock, api):
    chat(alice)
    snapshot("one")
    snapshot("two")
    decide.opt_out(alice)
    clock.shift(SETTLED)
    [entry] = entries(api, "one")

    response = api.get(url("two", since=entry["cursor"]))

    assert (response.status_code, response.json()["code"]) == (400, errors.INVALID_CURSOR)


def test_an_unknown_snapshot_is_a_json_404(db, api):
    response = api.get(url("never-taken"))

    assert (response.status_code, response.json()["code"]) == (404, errors.SNAPSHOT_NOT_FOUND)


def test_a_key_outside_the_allowed_characters_is_malformed(db, api):
    response = api.get("/api/v1/snapshots/a.b/withdrawals")

    assert response.status_code == 422


def test_the_feed_needs_a_service_token(alice, chat, snapshot, anonymous_api):
    chat(alice)
    snapshot()

    response = anonymous_api.get(url("nightly"))

    assert (response.status_code, response.json()["code"]) == (401, errors.TOKEN_MISSING)


# --- Pages -----------------------------------------------------------------------------


@pytest.fixture
def seven_withdrawn(person, decide, chat, snapshot, clock):
    """Seven conversations of four people, withdrawn by opt-outs and deletes, some at once."""
    people = [person() for _ in range(4)]
    for someone in people:
        decide.opt_in(someone)
    conversations = [chat(people[n % 4]) for n in range(7)]
    taken = snapshot()
    decide.opt_out(people[0])  # conversations 0 and 4 at one instant
    clock.shift(timedelta(seconds=1))
    conversation_delete(conversation=conversations[1])
    conversation_delete(conversation=conversations[5])  # the same instant as 1
    user_account_delete(user=people[2])  # 2 and 6, the same instant again
    decide.opt_out(people[3])
    clock.shift(SETTLED)
    return taken


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(sizes=st.lists(st.integers(min_value=1, max_value=8), min_size=1, max_size=8))
def test_pages_of_any_sizes_join_up_to_the_whole_feed(seven_withdrawn, sizes):
    now = timezone.now()
    whole = snapshot_withdrawals(snapshot=seven_withdrawn, since=None, limit=1000, now=now).items
    collected, cursor = [], None
    for size in sizes * 8:
        page = snapshot_withdrawals(snapshot=seven_withdrawn, since=cursor, limit=size, now=now)
        collected += page.items
        cursor = page.next_cursor
        if not page.items:
            break

    assert len(whole) == 7
    assert [w.conversation_id for w in collected] == [w.conversation_id for w in whole]


def test_the_same_position_always_has_the_same_cursor(seven_withdrawn):
    now = timezone.now()

    first = snapshot_withdrawals(snapshot=seven_withdrawn, since=None, limit=3, now=now)
    again = snapshot_withdrawals(snapshot=seven_withdrawn, since=None, limit=3, now=now)

    assert first.next_cursor == again.next_cursor


# --- The command -----------------------------------------------------------------------


def test_command_writes_the_same_entries_as_the_api(seven_withdrawn, api, tmp_path, capsys):
    out = tmp_path / "withdrawals.jsonl"

    call_command("snapshot_withdrawals", "nightly", "--out", str(out))

    written = [json.loads(line) for line in out.read_text().splitlines()]
    assert written == entries(api, limit=1000)
    assert "7 withdrawn of 7 conversations" in capsys.readouterr().err


def test_command_refuses_an_unknown_snapshot(db):
    with pytest.raises(CommandError, match=training_errors.UNKNOWN_SNAPSHOT):
        call_command("snapshot_withdrawals", "nope")
