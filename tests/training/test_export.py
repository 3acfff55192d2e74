"""The training export: redacted JSON Lines, one immutable ledger row per conversation."""

import hashlib
import json
import re
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.utils import timezone

from consent.models import ConsentRecord
from conversations.services import conversation_delete
from training import errors, services
from training.errors import TrainingExportError
from training.models import TrainingSnapshot, TrainingUse
from training.redaction import REDACTION_VERSION
from training.selectors import training_uses_for
from training.services import training_snapshot_export, user_pseudonym
from training.storage import (
    export_storage,
    read_shard_lines,
    snapshot_lines,
    snapshot_manifest,
)
from training.tasks import export_training_snapshot

from .conftest import exported_ids

pytestmark = pytest.mark.django_db

EMAIL = "jane.doe@example.com"


def lines(snapshot: TrainingSnapshot) -> list[dict]:
    return list(snapshot_lines(snapshot))


def raw_lines(snapshot: TrainingSnapshot) -> list[bytes]:
    storage = export_storage(snapshot.export.location)
    return [
        line
        for shard in snapshot_manifest(snapshot)["shards"]
        for line in read_shard_lines(storage, shard["file"])
    ]


def file_text(snapshot: TrainingSnapshot) -> str:
    return json.dumps(lines(snapshot), ensure_ascii=False)


@pytest.fixture
def alice(person, decide):
    alice = person(country="GB")
    decide.opt_in(alice)
    return alice


# --- The file ----------------------------------------------------------------------------


def test_each_eligible_conversation_is_one_line_with_its_redacted_messages(alice, chat, export):
    conversation = chat(alice, "How long should bread rise?")

    snapshot = export()

    [line] = lines(snapshot)
    assert line["conversation_id"] == conversation.pk
    assert line["consent_record_id"] == str(conversation.covered_by_id)
    assert [m["role"] for m in line["messages"]] == ["user", "assistant"]
    assert line["messages"][0]["text"] == "How long should bread rise?"
    assert line["redaction"] == {}


def test_an_email_in_a_message_never_reaches_the_file(alice, chat, export):
    chat(alice, f"Please write to {EMAIL} about it")

    snapshot = export()

    assert EMAIL not in file_text(snapshot)
    [line] = lines(snapshot)
    assert line["messages"][0]["text"] == "Please write to [EMAIL] about it"
    # The demo assistant echoes the question: its copy is redacted too.
    assert line["redaction"] == {"EMAIL": 2}
    assert snapshot.redaction_counts == {"EMAIL": 2}
    assert snapshot.redaction_version == REDACTION_VERSION


def test_phone_numbers_are_read_in_the_owners_country(alice, chat, export):
    chat(alice, "Call me on 020 7946 0958 tonight")

    snapshot = export()

    assert "7946" not in file_text(snapshot)


def test_user_is_a_keyed_pseudonym_never_the_id_or_email(alice, chat, export):
    chat(alice)

    [line] = lines(export())

    assert line["user"] == user_pseudonym(alice.pk)
    assert len(line["user"]) == 64
    assert alice.email not in json.dumps(line)


def test_pseudonym_depends_on_the_training_pseudonym_key(settings):
    settings.TRAINING_PSEUDONYM_KEY = "one key"
    first = user_pseudonym(7)
    settings.TRAINING_PSEUDONYM_KEY = "another key"

    assert user_pseudonym(7) != first


def test_snapshot_digest_is_the_digest_of_the_manifest_on_disk(alice, chat, export):
    chat(alice)
    chat(alice)

    snapshot = export()

    assert hashlib.sha256(Path(snapshot.file_name).read_bytes()).hexdigest() == snapshot.file_sha256
    assert (snapshot.conversation_count, snapshot.message_count) == (2, 4)


def test_manifest_lists_each_shard_with_its_digest_counts_policy_and_redaction_version(
    alice, person, decide, chat, export
):
    bob = person()
    decide.opt_in(bob)
    for owner in (alice, bob, alice, bob):
        chat(owner)

    snapshot = export(shard_size=2)

    manifest = json.loads(Path(snapshot.file_name).read_bytes())
    assert [shard["index"] for shard in manifest["shards"]] == [0, 1]
    for shard in manifest["shards"]:
        path = Path(snapshot.file_name).parent / shard["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == shard["sha256"]
        assert shard["conversations"] == 2
    assert manifest["policy"]["version"] == snapshot.policy.version
    assert manifest["redaction_version"] == REDACTION_VERSION
    assert manifest["conversation_count"] == snapshot.conversation_count == 4


def test_only_the_manifest_and_its_shards_are_left_in_the_directory(alice, chat, export, tmp_path):
    chat(alice)

    snapshot = export()

    manifest = Path(snapshot.file_name)
    shards = {manifest.parent / s["file"] for s in json.loads(manifest.read_bytes())["shards"]}
    written = {p for p in tmp_path.rglob("*") if p.is_file()}
    assert written == {manifest, *shards}


def test_export_without_a_policy_in_effect_is_refused(db, tmp_path):
    with pytest.raises(TrainingExportError, match=re.escape(errors.NO_POLICY)):
        training_snapshot_export(out_path=tmp_path / "out.jsonl")

    assert list(tmp_path.iterdir()) == []


def test_an_earlier_snapshots_file_is_never_overwritten(alice, chat, export, tmp_path):
    chat(alice)
    first = export(out_path=tmp_path / "same.jsonl")
    digest = first.file_sha256

    with pytest.raises(TrainingExportError, match=re.escape(errors.FILE_BELONGS_TO_SNAPSHOT)):
        export(out_path=tmp_path / "same.jsonl")

    assert hashlib.sha256(Path(first.file_name).read_bytes()).hexdigest() == digest


def test_a_snapshot_key_outside_the_allowed_characters_is_refused(alice, export):
    with pytest.raises(TrainingExportError, match=re.escape(errors.INVALID_SNAPSHOT_KEY)):
        export(snapshot_key="../../etc/passwd")


# --- The ledger --------------------------------------------------------------------------


def test_ledger_row_per_exported_conversation_names_user_record_and_line_digest(
    alice, chat, export
):
    conversation = chat(alice)

    snapshot = export()

    use = TrainingUse.objects.get()
    [line] = raw_lines(snapshot)
    assert (use.snapshot, use.conversation_id, use.user_id) == (snapshot, conversation.pk, alice.pk)
    assert use.consent_record_id == conversation.covered_by_id
    assert use.content_sha256 == hashlib.sha256(line).hexdigest()
    assert use.created_at == snapshot.created_at


def test_ledger_keeps_the_title_as_exported_redacted(alice, chat, export):
    chat(alice, f"Mail {EMAIL} the invoice")

    export()

    assert TrainingUse.objects.get().conversation_title == "Mail [EMAIL] the invoice"


def test_ledger_survives_deleting_the_conversation(alice, chat, export):
    conversation = chat(alice, "Plan my week")
    snapshot = export()

    conversation_delete(conversation=conversation)

    assert exported_ids(snapshot) == {conversation.pk}
    [use] = training_uses_for(alice)
    assert (use.conversation_title, use.snapshot_label) == ("Plan my week", snapshot.label)


def test_used_in_training_list_shows_the_live_title_while_the_chat_exists(alice, chat, export):
    chat(alice, f"Ask {EMAIL} for the keys")
    export()

    [use] = training_uses_for(alice)

    assert use.conversation_title == f"Ask {EMAIL} for the keys"


def test_used_in_training_list_holds_only_the_users_own_rows_newest_first(
    alice, person, decide, chat, export
):
    bob = person()
    decide.opt_in(bob)
    chat(alice, "mine")
    chat(bob, "theirs")
    first, second = export(), export()

    uses = list(training_uses_for(alice))

    assert [use.snapshot_label for use in uses] == [second.label, first.label]
    assert {use.conversation_title for use in uses} == {"mine"}


def test_rerun_with_the_same_snapshot_key_adds_no_ledger_rows(alice, chat, export, tmp_path):
    chat(alice)
    first = export(snapshot_key="nightly-2027-03-01")
    chat(alice)

    again = export(snapshot_key="nightly-2027-03-01", out_path=tmp_path / "again.jsonl")

    assert again == first
    assert TrainingUse.objects.count() == 1
    assert not (tmp_path / "again.jsonl").exists()


def test_each_run_without_a_key_is_a_new_snapshot_with_its_own_ledger(alice, chat, export):
    conversation = chat(alice)

    first, second = export(), export()

    assert first != second
    assert TrainingUse.objects.filter(conversation_id=conversation.pk).count() == 2


def test_conversation_that_leaves_eligibility_during_the_build_is_dropped(
    alice, person, decide, chat, export, monkeypatch
):
    bob = person()
    decide.opt_in(bob)
    stays = chat(bob)
    chat(alice)
    build = services._build

    def build_then_opt_out(**kwargs):
        yield from build(**kwargs)
        decide.opt_out(alice)  # commits while the shard file is being written

    monkeypatch.setattr(services, "_build", build_then_opt_out)

    snapshot = export()

    assert exported_ids(snapshot) == {stays.pk}
    assert [line["conversation_id"] for line in lines(snapshot)] == [stays.pk]
    assert snapshot.conversation_count == 1


def test_database_refuses_a_second_row_for_one_conversation_in_one_snapshot(alice, chat, export):
    chat(alice)
    export()
    use = TrainingUse.objects.get()

    with pytest.raises(IntegrityError), transaction.atomic():
        TrainingUse.objects.create(
            snapshot=use.snapshot,
            conversation_id=use.conversation_id,
            user_id=use.user_id,
            consent_record=use.consent_record,
            content_sha256=use.content_sha256,
            created_at=timezone.now(),
        )


@pytest.mark.parametrize(
    "statement",
    ["UPDATE {table} SET user_id = 0", "DELETE FROM {table}"],
    ids=["update", "delete"],
)
@pytest.mark.parametrize("model", [TrainingUse, TrainingSnapshot], ids=["ledger", "snapshot"])
def test_database_refuses_to_change_ledger_or_snapshot_rows(alice, chat, export, model, statement):
    chat(alice)
    export()
    sql = statement.format(table=model._meta.db_table)
    if model is TrainingSnapshot:
        sql = sql.replace("user_id", "message_count")

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql)

    assert model.objects.count() == 1


def test_orm_update_of_a_ledger_row_is_refused(alice, chat, export):
    chat(alice)
    export()

    with pytest.raises(DatabaseError), transaction.atomic():
        TrainingUse.objects.update(conversation_title="rewritten")


def test_consent_record_in_the_ledger_cannot_go_away(alice, chat, export):
    chat(alice)
    export()

    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.filter(pk=TrainingUse.objects.get().consent_record_id).delete()


# --- Command and task --------------------------------------------------------------------


def test_command_writes_the_file_and_reports_the_snapshot(alice, chat, tmp_path, capsys):
    chat(alice)
    out = tmp_path / "cli.jsonl"

    call_command("export_training_snapshot", "--out", str(out), "--snapshot-key", "cli-1")

    snapshot = TrainingSnapshot.objects.get(snapshot_key="cli-1")
    assert snapshot.file_name == str(out.resolve())
    assert snapshot.file_sha256[:12] in capsys.readouterr().out


def test_command_error_tells_the_operator_what_to_do(db, tmp_path):
    with pytest.raises(CommandError, match=re.escape(errors.NO_POLICY)):
        call_command("export_training_snapshot", "--out", str(tmp_path / "x.jsonl"))


def test_task_writes_to_the_export_storage(alice, chat, export_storage_dir):
    chat(alice)

    export_training_snapshot.delay(snapshot_key="from-task")

    snapshot = TrainingSnapshot.objects.get()
    assert snapshot.file_name == "training-from-task.json"
    assert (export_storage_dir / "training-from-task.json").is_file()


def test_redelivered_task_finishes_the_same_snapshot_instead_of_adding_one(
    alice, chat, export_storage_dir
):
    chat(alice)

    export_training_snapshot.apply(task_id="3b4c6a0e-redelivered")
    export_training_snapshot.apply(task_id="3b4c6a0e-redelivered")

    assert TrainingSnapshot.objects.get().snapshot_key == "task-3b4c6a0e-redelivered"
    assert TrainingUse.objects.count() == 1
