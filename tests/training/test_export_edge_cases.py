"""Export edges: a policy published while an inline export runs, failure reports that
come late or twice, and a conversation with nothing to train on (training.services)."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone

from conversations.models import Message
from tests.consent.factories import PolicyFactory
from training import errors, services, storage
from training.errors import TrainingExportError
from training.models import (
    ExportStatus,
    ShardStatus,
    SnapshotExport,
    TrainingSnapshot,
    TrainingUse,
)
from training.selectors import eligible_conversations
from training.services import (
    snapshot_export_fail,
    snapshot_export_finalise,
    snapshot_export_plan,
    snapshot_shard_write,
    training_snapshot_export,
)

from .conftest import exported_ids

pytestmark = pytest.mark.django_db


def test_a_policy_published_during_an_inline_export_stops_it_and_records_nothing(
    six_chats, tmp_path, monkeypatch
):
    read_shard = services._build
    published = []

    def read_then_publish(**kwargs):
        yield from read_shard(**kwargs)
        if not published:  # once the first shard is read, a new version takes effect
            published.append(
                PolicyFactory(version="next", effective_at=timezone.now() - timedelta(seconds=1))
            )

    monkeypatch.setattr(services, "_build", read_then_publish)
    out = tmp_path / "snapshot.json"

    with pytest.raises(TrainingExportError, match=re.escape(errors.POLICY_CHANGED)):
        training_snapshot_export(out_path=out, shard_size=2, snapshot_key="nightly")

    export = SnapshotExport.objects.get(snapshot_key="nightly")
    assert (export.status, export.error) == (ExportStatus.FAILED, errors.POLICY_CHANGED)
    # The first shard was written under the old policy, yet nothing reached the ledger.
    assert not TrainingSnapshot.objects.exists() and not TrainingUse.objects.exists()
    assert not out.exists()
    # The second shard found the policy changed; the third was never claimed or written.
    shards = list(export.shards.order_by("index").values_list("status", "attempt"))
    assert shards == [(ShardStatus.DONE, 1), (ShardStatus.RUNNING, 1), (ShardStatus.PENDING, 0)]
    written = sorted(p.name for p in (tmp_path / storage.shard_prefix(export)).iterdir())
    assert written == ["00000-attempt-1.jsonl.gz"]


def test_a_late_failure_report_does_not_undo_a_finished_export(six_chats, tmp_path):
    snapshot = training_snapshot_export(out_path=tmp_path / "s.json", snapshot_key="nightly")
    export = snapshot.export

    snapshot_export_fail(export_id=export.pk, error="worker lost")

    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.DONE, "")
    assert TrainingUse.objects.filter(snapshot=snapshot).count() == 6
    # The key is not spent: a rerun still returns the finished snapshot.
    assert (
        training_snapshot_export(out_path=tmp_path / "s.json", snapshot_key="nightly") == snapshot
    )


def test_a_failed_export_keeps_its_first_reason_and_time(six_chats, tmp_path, clock, caplog):
    def failures_logged() -> int:
        return sum(r.getMessage() == "training export failed" for r in caplog.records)

    export = snapshot_export_plan(out_path=tmp_path / "s.json", snapshot_key="nightly")
    snapshot_export_fail(export_id=export.pk, error=errors.POLICY_CHANGED)
    failed_at = timezone.now()
    clock.shift(timedelta(minutes=5))
    assert failures_logged() == 1

    snapshot_export_fail(export_id=export.pk, error="worker lost")

    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, errors.POLICY_CHANGED)
    assert export.finished_at == failed_at
    assert failures_logged() == 1


def test_a_conversation_without_messages_is_not_used(person, decide, chat, tmp_path):
    alice = person()
    decide.opt_in(alice)
    kept, emptied = chat(alice, "Plan my week"), chat(alice, "Plan a trip")
    Message.objects.filter(conversation=emptied).delete()
    assert emptied.pk in set(eligible_conversations().values_list("pk", flat=True))

    snapshot = training_snapshot_export(out_path=tmp_path / "s.json")

    assert exported_ids(snapshot) == {kept.pk}
    assert snapshot.conversation_count == 1
    ids = [line["conversation_id"] for line in storage.snapshot_lines(snapshot)]
    assert ids == [kept.pk]


def test_a_failed_export_is_never_finalised_even_with_every_shard_done(six_chats, tmp_path):
    export = snapshot_export_plan(out_path=tmp_path / "s.json", shard_size=2)
    for shard_id in export.shards.values_list("pk", flat=True):
        snapshot_shard_write(shard_id=shard_id)
    snapshot_export_fail(export_id=export.pk, error="stopped by an operator")

    assert snapshot_export_finalise(export_id=export.pk) is None

    export.refresh_from_db()
    assert (export.status, export.error) == (ExportStatus.FAILED, "stopped by an operator")
    assert not TrainingSnapshot.objects.exists() and not TrainingUse.objects.exists()
    assert not (tmp_path / "s.json").exists()
