"""Property: over random histories, ``verify_evidence`` finds nothing in an untouched
database and always finds a single tampered row, whichever row and however it is changed."""

import json
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from consent.models import Choice, ConsentRecord, Surface, UserConsentState
from consent.services import consent_record_create
from consent.verification import evidence_verify
from evidence import services as evidence_services
from evidence.models import LogEntry, SignedTreeHead
from tests.consent.factories import PolicyFactory
from tests.evidence.test_attacks import HEADS, LOG, RECORDS, triggers_lifted
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STATES = "consent_userconsentstate"

# A history: decisions as (user index, opt in?), with checkpoints between some of them.
steps = st.lists(
    st.one_of(
        st.tuples(st.integers(min_value=0, max_value=3), st.booleans()),
        st.just("checkpoint"),
    ),
    min_size=1,
    max_size=10,
)
TAMPERINGS = [
    "record_field",
    "record_choice",
    "record_delete",
    "state_choice",
    "state_tip_hash",
    "state_rewind",
    "log_leaf_hash",
    "log_delete",
    "log_swap",
    "head_table_root",
    "head_table_delete",
    "head_sink_edit",
    "head_sink_delete",
]


class Rollback(Exception):
    pass


def _play(history, policy) -> None:
    users = [UserFactory() for _ in range(4)]
    moment = timezone.now() - timedelta(hours=1)
    for step in history:
        if step == "checkpoint":
            evidence_services.checkpoint()
            continue
        user_index, opt_in = step
        moment += timedelta(seconds=1)
        consent_record_create(
            user=users[user_index],
            policy=policy,
            choice=Choice.OPT_IN if opt_in else Choice.OPT_OUT,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=moment,
        )
    # Anchor the end of the history: leaves after the last head are pinned by nothing yet.
    evidence_services.checkpoint()


def _tamper(kind: str, pick: int, sink: Path) -> bool:
    """Change one row; False when this history has no row of that kind."""

    def nth(queryset):
        rows = list(queryset)
        return rows[pick % len(rows)] if rows else None

    if kind.startswith("record"):
        record = nth(ConsentRecord.objects.order_by("decided_at"))
        if record is None:
            return False
        with triggers_lifted(RECORDS):
            rows = ConsentRecord.objects.filter(pk=record.pk)
            if kind == "record_field":
                rows.update(user_agent=record.user_agent + "!")
            elif kind == "record_choice":
                flipped = Choice.OPT_OUT if record.choice == Choice.OPT_IN else Choice.OPT_IN
                rows.update(choice=flipped)
            else:  # raw SQL, as an attacker would: the ORM's PROTECT is no obstacle
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"DELETE FROM {RECORDS} WHERE id = %s",
                        [ConsentRecord._meta.pk.get_db_prep_value(record.pk, connection)],
                    )
        return True
    if kind.startswith("state"):
        state = nth(UserConsentState.objects.order_by("user_id"))
        if state is None:
            return False
        rows = UserConsentState.objects.filter(pk=state.pk)
        if kind == "state_choice":
            rows.update(choice=Choice.OPT_OUT if state.choice == Choice.OPT_IN else Choice.OPT_IN)
        elif kind == "state_tip_hash":
            rows.update(tip_hash="0" * 64)
        else:
            earlier = state.latest_record.previous
            if earlier is None:
                return False
            rows.update(latest_record=earlier, tip_hash=earlier.record_hash, choice=earlier.choice)
        return True
    if kind.startswith("log"):
        entry = nth(LogEntry.objects.order_by("id"))
        if entry is None:
            return False
        with triggers_lifted(LOG):
            rows = LogEntry.objects.filter(pk=entry.pk)
            if kind == "log_leaf_hash":
                rows.update(leaf_hash="0" * 64)
            elif kind == "log_delete":
                rows.delete()
            else:
                other = nth(LogEntry.objects.exclude(pk=entry.pk).order_by("-id"))
                if other is None:
                    return False
                rows.update(leaf_index=None)
                LogEntry.objects.filter(pk=other.pk).update(leaf_index=entry.leaf_index)
                rows.update(leaf_index=other.leaf_index)
        return True
    head = nth(SignedTreeHead.objects.order_by("tree_size"))
    if head is None:
        return False
    if kind == "head_table_root":
        with triggers_lifted(HEADS):
            SignedTreeHead.objects.filter(pk=head.pk).update(root_hash="0" * 64)
    elif kind == "head_table_delete":
        with triggers_lifted(HEADS):
            SignedTreeHead.objects.filter(pk=head.pk).delete()
    elif kind == "head_sink_edit":
        path = sink / head.sink_name
        document = json.loads(path.read_text())
        document["timestamp_ms"] += 1
        path.chmod(0o644)
        path.write_text(json.dumps(document))
    else:
        (sink / head.sink_name).unlink()
    return True


def _run(history, tampering):
    """Play a history in a transaction of its own and a sink of its own; roll both back."""
    with tempfile.TemporaryDirectory() as sink_dir:
        storages = {
            "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
            "evidence_sink": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": sink_dir},
            },
        }
        outcome = None
        with override_settings(STORAGES=storages):
            try:
                with transaction.atomic():
                    _play(history, PolicyFactory())
                    tampered = tampering is not None and _tamper(*tampering, Path(sink_dir))
                    outcome = (tampered, [str(f) for f in evidence_verify().findings])
                    raise Rollback
            except Rollback:
                pass
        return outcome


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history=steps)
def test_an_untouched_history_has_no_findings(history):
    _, findings = _run(history, None)

    assert findings == []


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    history=steps,
    kind=st.sampled_from(TAMPERINGS),
    pick=st.integers(min_value=0, max_value=50),
)
def test_any_single_tampered_row_is_found(history, kind, pick):
    tampered, findings = _run(history, (kind, pick))
    event(kind if tampered else "nothing to tamper with")

    if tampered:
        assert findings, f"{kind} went unnoticed"
