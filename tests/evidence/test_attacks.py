"""Each way to change consent history with database write access is caught by
``manage.py verify_evidence`` (DESIGN §4 rule 7), and a hand-edited state row blocks
training use at once."""

import base64
import json
import secrets
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.utils import timezone

from consent.chain import record_hash_compute
from consent.db import _statements as consent_triggers
from consent.models import Choice, ConsentRecord, Surface, UserConsentState
from consent.verification import evidence_verify
from conversations.services import conversation_start
from evidence import services as evidence_services
from evidence.db import trigger_statements as evidence_triggers
from evidence.models import LogEntry, SignedTreeHead, VerificationRun
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory, settings_decision
from training.selectors import eligible_conversations

pytestmark = pytest.mark.django_db


@contextmanager
def triggers_lifted(*tables: str):
    """What an attacker with the database's owner role can do: drop the triggers."""
    statements = {
        t: (evidence_triggers if t.startswith("evidence_") else consent_triggers) for t in tables
    }
    with connection.cursor() as cursor:
        for table, source in statements.items():
            for sql in source(connection.vendor, table)[1]:
                cursor.execute(sql, None)
    yield
    with connection.cursor() as cursor:
        for table, source in statements.items():
            for sql in source(connection.vendor, table)[0]:
                cursor.execute(sql, None)


RECORDS = "consent_consentrecord"
LOG = "evidence_logentry"
HEADS = "evidence_signedtreehead"


@pytest.fixture
def clock():
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False) as traveller:
        yield traveller


@pytest.fixture
def policy(db, clock):
    return PolicyFactory(effective_at=timezone.now() - timedelta(days=10))


@pytest.fixture
def decide(policy, clock):
    def record(user, choice: str) -> ConsentRecord:
        clock.shift(timedelta(seconds=1))
        return settings_decision(user, policy, choice)

    return record


@pytest.fixture
def history(decide):
    """Two users: Ada opted in then out; Bo opted in. Everything is checkpointed."""
    ada, bo = UserFactory(), UserFactory()
    first = decide(ada, Choice.OPT_IN)
    withdrawal = decide(ada, Choice.OPT_OUT)
    bo_in = decide(bo, Choice.OPT_IN)
    evidence_services.checkpoint()
    return {"ada": ada, "bo": bo, "first": first, "withdrawal": withdrawal, "bo_in": bo_in}


def _findings() -> list[str]:
    return [str(f) for f in evidence_verify().findings]


def _state_points_at(user, record: ConsentRecord) -> None:
    UserConsentState.objects.filter(user=user).update(
        latest_record=record, tip_hash=record.record_hash, choice=record.choice
    )


def test_untouched_history_verifies(history):
    assert _findings() == []


def test_verify_evidence_command_passes_and_records_the_run(history, capsys):
    call_command("verify_evidence", "--no-progress")

    assert "Evidence OK" in capsys.readouterr().out
    assert VerificationRun.objects.get().status == VerificationRun.Status.PASSED


def test_field_edit_is_named(history):
    record = history["first"]
    with triggers_lifted(RECORDS):
        ConsentRecord.objects.filter(pk=record.pk).update(user_agent="edited")

    findings = _findings()

    assert any(f"record {record.pk}" in f and "record_hash" in f for f in findings)
    assert any(f"record {record.pk}" in f and "differs from what the log" in f for f in findings)


def test_tail_delete_is_named(history):
    # Ada's withdrawal is deleted and her state pointed back at her opt-in.
    withdrawal = history["withdrawal"]
    _state_points_at(history["ada"], history["first"])
    with triggers_lifted(RECORDS):
        ConsentRecord.objects.filter(pk=withdrawal.pk).delete()

    findings = _findings()

    assert any(f"record {withdrawal.pk}" in f and "missing" in f for f in findings)


def test_tail_delete_with_its_log_entry_is_caught_by_the_signed_head(history):
    withdrawal = history["withdrawal"]
    _state_points_at(history["ada"], history["first"])
    with triggers_lifted(RECORDS, LOG):
        ConsentRecord.objects.filter(pk=withdrawal.pk).delete()
        LogEntry.objects.filter(object_id=str(withdrawal.pk)).delete()

    findings = _findings()

    assert any(f.startswith("head 3") for f in findings)


def test_rehash_with_recomputed_hashes_is_named(history):
    # Ada's withdrawal is rewritten as an opt-in and its hash recomputed with the project's
    # own function; her state follows. The chain verifies; the log does not.
    withdrawal = ConsentRecord.objects.get(pk=history["withdrawal"].pk)
    withdrawal.choice = Choice.OPT_IN
    new_hash = record_hash_compute(withdrawal, history["first"].record_hash)
    with triggers_lifted(RECORDS):
        ConsentRecord.objects.filter(pk=withdrawal.pk).update(
            choice=Choice.OPT_IN, record_hash=new_hash
        )
    UserConsentState.objects.filter(user=history["ada"]).update(
        choice=Choice.OPT_IN, tip_hash=new_hash
    )

    findings = _findings()

    assert not any("record_hash" in f for f in findings)  # the chain alone is fooled
    assert any(
        f"record {withdrawal.pk}" in f and "differs from what the log" in f for f in findings
    )


def test_rehash_with_the_log_rewritten_too_is_caught_by_the_signed_head(history):
    from consent.chain import record_hash_material
    from evidence.merkle import leaf_hash

    withdrawal = ConsentRecord.objects.get(pk=history["withdrawal"].pk)
    withdrawal.choice = Choice.OPT_IN
    new_hash = record_hash_compute(withdrawal, history["first"].record_hash)
    new_leaf = leaf_hash(record_hash_material(withdrawal, history["first"].record_hash)).hex()
    with triggers_lifted(RECORDS, LOG):
        ConsentRecord.objects.filter(pk=withdrawal.pk).update(
            choice=Choice.OPT_IN, record_hash=new_hash
        )
        LogEntry.objects.filter(object_id=str(withdrawal.pk)).update(leaf_hash=new_leaf)
    UserConsentState.objects.filter(user=history["ada"]).update(
        choice=Choice.OPT_IN, tip_hash=new_hash
    )

    findings = _findings()

    assert any(f.startswith("head 3") and "root differs" in f for f in findings)


def test_state_flip_is_named(history):
    ada = history["ada"]
    UserConsentState.objects.filter(user=ada).update(choice=Choice.OPT_IN)

    findings = _findings()

    assert f"user {ada.pk}: state says opt_in, the chain tip says opt_out" in findings


def test_state_flip_is_refused_by_the_export(history, clock):
    # Given Ada's state is flipped to opt_in and pointed at her old opt-in record
    ada, first = history["ada"], history["first"]
    UserConsentState.objects.filter(user=ada).update(
        choice=Choice.OPT_IN, latest_record=first, tip_hash=first.record_hash, opt_in_since=first
    )
    # When she chats (the chat is covered by that record as far as the state row says)
    clock.shift(timedelta(seconds=1))
    conversation = conversation_start(user=ada, text="Is this used for training?")

    # Then the export does not take it: the state is not her chain's tip
    assert conversation.covered_by_id == first.pk
    assert not eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()


def test_a_withdrawal_rewritten_as_an_opt_in_with_its_hash_recomputed_trains_nothing(
    history, clock
):
    # Given Ada's withdrawal is rewritten as an opt-in, its record hash recomputed, and her
    # state row flipped to match, but the state's tip hash left as the chain last wrote it
    ada, first, withdrawal = history["ada"], history["first"], history["withdrawal"]
    forged = ConsentRecord.objects.get(pk=withdrawal.pk)
    forged.choice = Choice.OPT_IN
    forged_hash = record_hash_compute(forged, first.record_hash)
    with triggers_lifted(RECORDS):
        ConsentRecord.objects.filter(pk=withdrawal.pk).update(
            choice=Choice.OPT_IN, record_hash=forged_hash
        )
    UserConsentState.objects.filter(user=ada).update(choice=Choice.OPT_IN, opt_in_since=forged)
    # When she chats under the forged opt-in
    clock.shift(timedelta(seconds=1))
    conversation = conversation_start(user=ada, text="Is this used for training?")

    # Then nothing of hers is exported: the state's tip hash is not the tip's hash
    assert conversation.covered_by_id == withdrawal.pk
    assert not eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()


def test_a_state_pointed_at_another_persons_opt_in_trains_nothing(history, clock):
    # Given Ada (opted in, then out) chatted while opted in
    ada, first, bo, bo_tip = history["ada"], history["first"], history["bo"], history["bo_in"]
    ada_state = UserConsentState.objects.get(user=ada)
    UserConsentState.objects.filter(user=ada).update(
        choice=Choice.OPT_IN, latest_record=first, opt_in_since=first
    )
    clock.shift(timedelta(seconds=1))
    conversation = conversation_start(user=ada, text="Covered by my own opt-in.")
    # When her state row is pointed at Bo's opt-in, his chain's verified tip (Bo's own
    # state row removed so that the one-to-one link is free)
    UserConsentState.objects.filter(user=bo).delete()
    UserConsentState.objects.filter(pk=ada_state.pk).update(
        latest_record=bo_tip, tip_hash=bo_tip.record_hash, policy=bo_tip.policy
    )

    # Then her conversation is not exported: the tip her state names is not hers
    assert conversation.covered_by_id == first.pk
    assert not eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()


def test_untampered_opt_in_is_still_exported(history, clock):
    clock.shift(timedelta(seconds=1))
    conversation = conversation_start(user=history["bo"], text="Fine to train on this.")

    assert eligible_conversations(now=timezone.now()).filter(pk=conversation.pk).exists()


def test_record_deleted_before_a_checkpoint_is_named(decide):
    ada = UserFactory()
    first = decide(ada, Choice.OPT_IN)
    evidence_services.checkpoint()
    withdrawal = decide(ada, Choice.OPT_OUT)
    _state_points_at(ada, first)
    with triggers_lifted(RECORDS):
        ConsentRecord.objects.filter(pk=withdrawal.pk).delete()

    evidence_services.checkpoint()
    findings = _findings()

    assert any(f"record {withdrawal.pk}" in f and "missing" in f for f in findings)


def test_head_altered_in_the_sink_is_named(history, evidence_sink):
    head = SignedTreeHead.objects.get()
    path = evidence_sink / head.sink_name
    document = json.loads(path.read_text())
    document["root_hash"] = "00" * 32
    path.chmod(0o644)
    path.write_text(json.dumps(document))

    assert "head 3: differs between the table and the sink" in _findings()


def test_head_removed_from_the_sink_is_named(history, evidence_sink):
    head = SignedTreeHead.objects.get()
    (evidence_sink / head.sink_name).unlink()

    assert "head 3: is in the table but missing from the sink" in _findings()


def test_head_removed_from_the_table_is_named(history):
    with triggers_lifted(HEADS):
        SignedTreeHead.objects.all().delete()

    findings = _findings()

    assert any(f.startswith("head 3") and "missing from the table" in f for f in findings)


def test_head_altered_in_the_table_is_named(history):
    with triggers_lifted(HEADS):
        SignedTreeHead.objects.update(root_hash="00" * 32)

    findings = _findings()

    assert "head 3 (table): signature does not verify" in findings


def test_checkpoint_signed_by_another_key_is_named(decide, settings):
    decide(UserFactory(), Choice.OPT_IN)
    settings.EVIDENCE_SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
    evidence_services.checkpoint()
    settings.EVIDENCE_SIGNING_KEY = "dGVzdC1ldmlkZW5jZS1zaWduaW5nLWtleS0zMmJ5dGU="

    assert "head 1 (table): is signed by a key that is not trusted" in _findings()


def test_a_rotated_key_listed_as_trusted_still_verifies(decide, settings):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from evidence import keys

    old_raw = secrets.token_bytes(32)
    decide(UserFactory(), Choice.OPT_IN)
    settings.EVIDENCE_SIGNING_KEY = base64.b64encode(old_raw).decode()
    evidence_services.checkpoint()
    settings.EVIDENCE_SIGNING_KEY = "dGVzdC1ldmlkZW5jZS1zaWduaW5nLWtleS0zMmJ5dGU="
    old_public = keys.public_raw(Ed25519PrivateKey.from_private_bytes(old_raw).public_key())
    settings.EVIDENCE_TRUSTED_PUBLIC_KEYS = [base64.b64encode(old_public).decode()]

    assert _findings() == []


def test_command_exits_non_zero_and_names_each_problem(history, capsys):
    ada = history["ada"]
    UserConsentState.objects.filter(user=ada).update(choice=Choice.OPT_IN)

    with pytest.raises(CommandError, match="1 problem"):
        call_command("verify_evidence", "--no-progress")

    assert f"BROKEN user {ada.pk}: state says opt_in" in capsys.readouterr().err
    run = VerificationRun.objects.get()
    assert run.status == VerificationRun.Status.FAILED
    assert run.findings == [f"user {ada.pk}: state says opt_in, the chain tip says opt_out"]


def test_training_use_naming_an_opt_out_record_is_named(history):
    from training.models import TrainingSnapshot, TrainingUse

    snapshot = TrainingSnapshot.objects.create(
        snapshot_key="k",
        policy=history["first"].policy,
        created_at=timezone.now(),
        conversation_count=1,
        message_count=1,
        file_name="f.jsonl",
        file_sha256="0" * 64,
        redaction_version="1",
    )
    use = TrainingUse.objects.create(
        snapshot=snapshot,
        conversation_id=1,
        user_id=history["ada"].pk,
        consent_record=history["withdrawal"],
        content_sha256="0" * 64,
        created_at=timezone.now(),
    )

    assert any(f.startswith(f"training use {use.pk}") for f in _findings())


def test_conversation_covered_by_another_users_opt_in_is_named(history):
    bo = history["bo"]
    conversation = conversation_start(user=bo, text="hello")
    # An attacker pins Bo's conversation to Ada's withdrawn opt-in.
    type(conversation).objects.filter(pk=conversation.pk).update(covered_by=history["first"])

    assert _findings() == [
        f"conversation {conversation.pk} (user {bo.pk}): is covered by record "
        f"{history['first'].pk}, which is not an opt-in of that user"
    ]


def test_backfill_migration_logs_existing_records_and_fills_tips(policy, clock):
    import importlib

    from django.apps import apps

    from consent.services import consent_record_build

    backfill = importlib.import_module(
        "consent.migrations.0007_backfill_tips_and_evidence_log"
    ).backfill
    # Given records and a state written before the evidence log existed
    user = UserFactory()
    first = consent_record_build(
        user_id=user.pk, policy=policy, choice=Choice.OPT_IN, surface=Surface.SETTINGS,
        shown_at=timezone.now(), decided_at=timezone.now(), form_key="a", previous=None,
    )  # fmt: skip
    first.save(force_insert=True)
    second = consent_record_build(
        user_id=user.pk, policy=policy, choice=Choice.OPT_OUT, surface=Surface.SETTINGS,
        shown_at=timezone.now(), decided_at=timezone.now() + timedelta(seconds=1),
        form_key="b", previous=first,
    )  # fmt: skip
    second.save(force_insert=True)
    UserConsentState.objects.create(
        user=user, policy=policy, choice=Choice.OPT_OUT, latest_record=second,
        decided_at=second.decided_at,
    )  # fmt: skip

    # When the migration's backfill runs (twice: it is idempotent) and a checkpoint follows
    backfill(apps, None)
    backfill(apps, None)
    evidence_services.checkpoint()

    # Then everything verifies
    assert UserConsentState.objects.get(user=user).tip_hash == second.record_hash
    assert LogEntry.objects.count() == 2
    assert _findings() == []


def test_export_logs_the_user_whose_state_disagrees_with_the_chain(history, caplog, tmp_path):
    from training.services import training_snapshot_export

    ada = history["ada"]
    UserConsentState.objects.filter(user=ada).update(choice=Choice.OPT_IN)

    with caplog.at_level("ERROR", logger="consent.evidence"):
        training_snapshot_export(out_path=tmp_path / "snapshot.jsonl")

    assert [r.user_id for r in caplog.records] == [ada.pk]


@pytest.mark.parametrize("stored", ["zz" * 32, "ab" * 31, "ab" * 31 + "a", ""])
def test_a_malformed_leaf_hash_is_named_not_a_crash(history, stored):
    # The record is deleted and its leaf overwritten with something that is no hash at all.
    withdrawal = history["withdrawal"]
    _state_points_at(history["ada"], history["first"])
    entry = LogEntry.objects.get(object_id=str(withdrawal.pk))
    with triggers_lifted(RECORDS, LOG):
        ConsentRecord.objects.filter(pk=withdrawal.pk).delete()
        LogEntry.objects.filter(pk=entry.pk).update(leaf_hash=stored)

    findings = _findings()

    assert f"leaf {entry.leaf_index}: holds a malformed hash (not 64 hex digits)" in findings
    assert any(f.startswith("head 3") and "root differs" in f for f in findings)


@pytest.mark.parametrize("index", [3, 10**12])  # three leaves: 0, 1 and 2
def test_a_leaf_renumbered_out_of_range_is_named_not_a_crash(history, index):
    withdrawal = history["withdrawal"]
    with triggers_lifted(LOG):
        LogEntry.objects.filter(object_id=str(withdrawal.pk)).update(leaf_index=index)

    findings = _findings()

    assert any(f.startswith(f"leaf {index}: is numbered outside the log") for f in findings)
    assert any(f.startswith("head 3") for f in findings)
