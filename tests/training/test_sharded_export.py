"""The sharded export under faults: duplicated deliveries, crashed shards, finalise twice,
a policy published mid-export, lost tasks (training.services, training.tasks)."""

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from conversations.services import conversation_start
from tests.consent.factories import PolicyFactory
from training import errors, services, storage
from training.errors import TrainingExportError
from training.models import (
    ExportStatus,
    ShardEntry,
    ShardFormat,
    ShardStatus,
    SnapshotShard,
    TrainingSnapshot,
    TrainingUse,
)
from training.services import (
    snapshot_export_finalise,
    snapshot_export_plan,
    snapshot_exports_advance,
    snapshot_shard_write,
    training_snapshot_export,
)
from training.tasks import write_training_shard

pytestmark = pytest.mark.django_db


@pytest.fixture
def plan(tmp_path, clock):
    def make(**kwargs):
        clock.shift(timedelta(seconds=1))
        kwargs.setdefault("out_path", tmp_path / "snapshot.json")
        kwargs.setdefault("shard_size", 2)
        return snapshot_export_plan(**kwargs)

    return make


def write_all(export) -> None:
    for shard in export.shards.all():
        snapshot_shard_write(shard_id=shard.pk)


def manifest_files(snapshot: TrainingSnapshot) -> list[str]:
    return [shard["file"] for shard in storage.snapshot_manifest(snapshot)["shards"]]


def test_plan_cuts_the_id_space_into_consecutive_ranges(six_chats, plan):
    export = plan()

    ranges = list(export.shards.values_list("lower_id", "upper_id"))

    ids = sorted(c.pk for c in six_chats)
    assert ranges == [(0, ids[1]), (ids[1], ids[3]), (ids[3], ids[5])]


def test_a_duplicated_delivery_writes_the_shard_once(six_chats, plan):
    export = plan()
    shard = export.shards.first()

    first = snapshot_shard_write(shard_id=shard.pk)
    again = snapshot_shard_write(shard_id=shard.pk)

    assert first is not None and again is None
    shard.refresh_from_db()
    assert (shard.attempt, shard.status) == (1, ShardStatus.DONE)
    assert ShardEntry.objects.filter(shard=shard).count() == 2


def test_the_task_delivered_twice_makes_one_snapshot_with_one_row_per_conversation(six_chats, plan):
    export = plan()

    for shard in export.shards.all():
        write_training_shard.apply(args=[shard.pk])
        write_training_shard.apply(args=[shard.pk])

    export.refresh_from_db()
    assert export.status == ExportStatus.DONE
    assert TrainingUse.objects.filter(snapshot=export.snapshot).count() == 6
    assert len(manifest_files(export.snapshot)) == 3


def test_a_shard_that_crashed_is_written_again_and_its_stale_file_is_removed(
    six_chats, plan, monkeypatch
):
    export = plan()
    shard = export.shards.first()
    store = storage.store

    def store_then_die(target, name, source):
        store(target, name, source)  # the file is written, the row never commits
        raise SystemExit("worker killed")

    monkeypatch.setattr(storage, "store", store_then_die)
    with pytest.raises(SystemExit):
        snapshot_shard_write(shard_id=shard.pk)
    monkeypatch.setattr(storage, "store", store)
    stale = Path(export.location) / storage.shard_name(export, shard, 1)
    assert stale.exists()

    write_all(export)
    snapshot = snapshot_export_finalise(export_id=export.pk)

    shard.refresh_from_db()
    assert shard.attempt == 2
    assert manifest_files(snapshot)[0] == storage.shard_name(export, shard, 2)
    assert not stale.exists()
    assert TrainingUse.objects.filter(snapshot=snapshot).count() == 6


def test_when_two_attempts_race_the_first_commit_wins_and_the_loser_deletes_its_file(
    six_chats, plan, monkeypatch
):
    export = plan()
    shard = export.shards.first()
    commit = services._shard_commit
    loser: list[str] = []

    def twin_commits_first(**kwargs):
        if not loser:
            loser.append(kwargs["file_name"])
            snapshot_shard_write(shard_id=shard.pk)  # a duplicate delivery, attempt 2
        return commit(**kwargs)

    monkeypatch.setattr(services, "_shard_commit", twin_commits_first)

    assert snapshot_shard_write(shard_id=shard.pk) is None

    shard.refresh_from_db()
    assert shard.file_name == storage.shard_name(export, shard, 2)
    assert not (Path(export.location) / loser[0]).exists()
    assert ShardEntry.objects.filter(shard=shard).count() == 2


def test_finalise_waits_for_every_shard(six_chats, plan):
    export = plan()
    snapshot_shard_write(shard_id=export.shards.first().pk)

    assert snapshot_export_finalise(export_id=export.pk) is None
    assert TrainingSnapshot.objects.count() == 0
    assert TrainingUse.objects.count() == 0


def test_finalise_called_twice_writes_the_ledger_once(six_chats, plan):
    export = plan()
    write_all(export)

    first = snapshot_export_finalise(export_id=export.pk)
    second = snapshot_export_finalise(export_id=export.pk)

    assert first == second
    assert TrainingSnapshot.objects.count() == 1
    assert TrainingUse.objects.count() == 6
    assert ShardEntry.objects.count() == 0  # staging rows are gone once in the ledger


def test_ledger_rows_carry_their_shards_eligibility_check_time(six_chats, plan, clock):
    export = plan()
    shards = list(export.shards.all())
    snapshot_shard_write(shard_id=shards[0].pk)
    clock.shift(timedelta(minutes=5))
    for shard in shards[1:]:
        snapshot_shard_write(shard_id=shard.pk)

    snapshot = snapshot_export_finalise(export_id=export.pk)

    times = sorted(
        set(TrainingUse.objects.filter(snapshot=snapshot).values_list("created_at", flat=True))
    )
    assert len(times) == 2 and times[1] - times[0] == timedelta(minutes=5)


def test_a_policy_published_before_a_shard_is_written_fails_the_export(six_chats, plan, policy):
    export = plan()
    PolicyFactory(version="next", effective_at=timezone.now() - timedelta(seconds=1))

    assert snapshot_shard_write(shard_id=export.shards.first().pk) is None

    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, errors.POLICY_CHANGED)
    assert not SnapshotShard.objects.filter(export=export, status=ShardStatus.DONE).exists()


def test_a_policy_published_before_finalising_records_nothing(six_chats, plan):
    export = plan()
    write_all(export)
    PolicyFactory(version="next", effective_at=timezone.now() - timedelta(seconds=1))

    assert snapshot_export_finalise(export_id=export.pk) is None

    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED
    assert TrainingSnapshot.objects.count() == 0 and TrainingUse.objects.count() == 0


def test_the_key_of_a_failed_export_is_spent(six_chats, plan):
    export = plan(snapshot_key="nightly")
    PolicyFactory(version="next", effective_at=timezone.now() - timedelta(seconds=1))
    snapshot_shard_write(shard_id=export.shards.first().pk)

    with pytest.raises(TrainingExportError, match=re.escape(errors.EXPORT_KEY_SPENT)):
        plan(snapshot_key="nightly")


def test_sweep_resends_shards_whose_task_was_lost_after_the_lease(six_chats, plan, settings):
    settings.TRAINING_SHARD_LEASE_SECONDS = 60
    export = plan()
    started, sent, never_sent = export.shards.all()
    now = timezone.now()
    SnapshotShard.objects.filter(pk=started.pk).update(
        status=ShardStatus.RUNNING, started_at=now - timedelta(seconds=61)
    )
    SnapshotShard.objects.filter(pk=sent.pk).update(dispatched_at=now - timedelta(seconds=30))

    resend = snapshot_exports_advance(now=now)

    assert sorted(resend) == sorted([started.pk, never_sent.pk])
    assert snapshot_exports_advance(now=now) == []  # marked sent: not again within the lease


def test_sweep_finalises_an_export_whose_shards_are_all_done(six_chats, plan):
    export = plan()
    write_all(export)

    assert snapshot_exports_advance() == []

    export.refresh_from_db()
    assert export.status == ExportStatus.DONE


def test_conversations_created_after_the_plan_wait_for_the_next_snapshot(
    six_chats, plan, chat, person, decide
):
    export = plan()
    latecomer = person()
    decide.opt_in(latecomer)
    late = chat(latecomer)
    write_all(export)

    snapshot = snapshot_export_finalise(export_id=export.pk)

    assert not TrainingUse.objects.filter(snapshot=snapshot, conversation_id=late.pk).exists()


def test_gzip_shards_are_byte_identical_for_the_same_lines(six_chats, plan, tmp_path):
    export = plan()
    shard = export.shards.first()
    snapshot_shard_write(shard_id=shard.pk)
    shard.refresh_from_db()
    lines = list(storage.read_shard_lines(storage.export_storage(export.location), shard.file_name))

    storage.encode_shard(lines, file_format=export.file_format, target=tmp_path / "again")

    assert storage.sha256_of(tmp_path / "again") == shard.file_sha256
    assert [json.loads(line)["conversation_id"] for line in lines] == sorted(
        c.pk for c in six_chats[:2]
    )


def test_a_temporary_chat_never_reaches_a_shard(person, decide, clock, plan):
    alice = person()
    decide.opt_in(alice)
    clock.shift(timedelta(seconds=1))
    kept = conversation_start(user=alice, text="Plan a trip")
    conversation_start(user=alice, text="Something private", temporary=True)
    export = plan()
    write_all(export)

    snapshot = snapshot_export_finalise(export_id=export.pk)

    assert list(snapshot.uses.values_list("conversation_id", flat=True)) == [kept.pk]


def test_a_parquet_export_holds_the_same_conversations_as_json_lines(six_chats, plan, tmp_path):
    jsonl = training_snapshot_export(out_path=tmp_path / "a" / "s.json", shard_size=2)

    parquet = training_snapshot_export(
        out_path=tmp_path / "b" / "s.json", shard_size=2, file_format=ShardFormat.PARQUET
    )

    def content(snapshot):
        return [
            (line["conversation_id"], line["messages"]) for line in storage.snapshot_lines(snapshot)
        ]

    assert content(parquet) == content(jsonl) and len(content(jsonl)) == 6
    assert manifest_files(parquet)[0].endswith(".parquet")


def test_a_person_who_opts_out_while_their_shard_is_read_is_left_out(
    six_chats, plan, decide, monkeypatch
):
    export = plan()
    leaver = six_chats[0].user
    read_shard = services._build

    def read_then_opt_out(**kwargs):
        yield from read_shard(**kwargs)
        decide.opt_out(leaver)  # after the rows were read, before the shard is committed

    monkeypatch.setattr(services, "_build", read_then_opt_out)

    write_all(export)
    snapshot_export_finalise(export_id=export.pk)

    used = set(TrainingUse.objects.values_list("conversation_id", flat=True))
    assert used == {c.pk for c in six_chats if c.user_id != leaver.pk}
