"""DESIGN §4 rule 3, as a property: after a run at T no unheld conversation with
retain_until < T remains, and none with retain_until >= T (or held) was deleted."""

from datetime import timedelta

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conversations.models import Conversation, Message
from retention.models import Hold
from retention.services import retention_purge_run
from tests.factories import ConversationFactory, MessageFactory, UserFactory

from .conftest import T

pytestmark = pytest.mark.django_db

USERS = 3
# Offsets around T, in seconds: 0 is exactly T (kept); the microsecond cases sit on the edge.
OFFSETS = st.one_of(
    st.integers(min_value=-3, max_value=3).map(lambda s: timedelta(seconds=s)),
    st.sampled_from([timedelta(microseconds=-1), timedelta(microseconds=1)]),
)
# A hold's state at T: in force (open-ended or ending after T) or spent (released, or ended by T).
HOLD_KINDS = st.sampled_from(
    ["none", "open", "until_after", "until_at_T", "until_before", "released"]
)
ROW_HOLDS = st.sampled_from(["none", "reason_only", "until_after", "until_at_T", "until_before"])
IN_FORCE = {"open", "until_after"}


def _hold(kind: str, **target) -> None:
    if kind == "none":
        return
    until = {
        "until_after": T + timedelta(seconds=1),
        "until_at_T": T,
        "until_before": T - timedelta(seconds=1),
    }.get(kind)
    Hold.objects.create(
        reason=kind,
        until=until,
        created_at=T - timedelta(days=9),
        released_at=T - timedelta(days=1) if kind == "released" else None,
        **target,
    )


def _row_fields(kind: str) -> dict:
    return {
        "none": {},
        "reason_only": {"hold_reason": "by hand"},
        "until_after": {"hold_until": T + timedelta(seconds=1)},
        "until_at_T": {"hold_until": T, "hold_reason": "ended"},
        "until_before": {"hold_until": T - timedelta(seconds=1)},
    }[kind]


conversation_specs = st.lists(
    st.tuples(
        OFFSETS,
        HOLD_KINDS,
        ROW_HOLDS,
        st.integers(min_value=0, max_value=USERS - 1),
        st.integers(0, 2),
    ),
    max_size=20,
)


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    specs=conversation_specs,
    user_holds=st.lists(HOLD_KINDS, min_size=USERS, max_size=USERS),
    batch_size=st.integers(min_value=1, max_value=7),
)
def test_run_at_T_deletes_exactly_the_unheld_conversations_due_before_T(
    specs, user_holds, batch_size
):
    with transaction.atomic():
        users = [UserFactory() for _ in range(USERS)]
        for user, kind in zip(users, user_holds, strict=True):
            _hold(kind, user=user)
        expected_deleted, expected_messages, all_ids = set(), 0, []
        for offset, hold_kind, row_kind, user_index, messages in specs:
            conversation = ConversationFactory(
                user=users[user_index],
                created_at=T - timedelta(days=60),
                last_activity_at=T - timedelta(days=60),
                retain_until=T + offset,
                **_row_fields(row_kind),
            )
            MessageFactory.create_batch(messages, conversation=conversation)
            _hold(hold_kind, conversation=conversation)
            all_ids.append(conversation.pk)
            held = (
                hold_kind in IN_FORCE
                or user_holds[user_index] in IN_FORCE
                or row_kind in ("reason_only", "until_after")
            )
            if offset < timedelta(0) and not held:
                expected_deleted.add(conversation.pk)
                expected_messages += messages

        run = retention_purge_run(now=T, batch_size=batch_size, max_batches=100)

        remaining = set(Conversation.objects.filter(pk__in=all_ids).values_list("pk", flat=True))
        assert remaining == set(all_ids) - expected_deleted
        assert not Message.objects.filter(conversation_id__in=expected_deleted).exists()
        assert run.conversations_deleted == len(expected_deleted)
        assert run.messages_deleted == expected_messages
        assert run.exhausted
        transaction.set_rollback(True)
