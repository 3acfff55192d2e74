"""The stored nodes of a log sequenced before nodes were kept: recomputed from its leaves,
once (a log that already has its nodes is left alone)."""

from django.db import migrations

from evidence import merkle

NODE_LEVEL_MIN = 4  # evidence.models.NODE_LEVEL_MIN when this migration was written
BATCH = 5000


def backfill(apps, schema_editor):
    LogEntry = apps.get_model("evidence", "LogEntry")
    TreeNode = apps.get_model("evidence", "TreeNode")
    if TreeNode.objects.exists():
        return
    pending: list = []

    def keep(level: int, index: int, node: bytes) -> None:
        if level >= NODE_LEVEL_MIN:
            pending.append(TreeNode(level=level, index=index, hash=node.hex()))
            if len(pending) >= BATCH:
                TreeNode.objects.bulk_create(pending)
                pending.clear()

    tree = merkle.CompactRange()
    leaves = (
        LogEntry.objects.filter(leaf_index__isnull=False)
        .order_by("leaf_index")
        .values_list("leaf_hash", flat=True)
    )
    for leaf in leaves.iterator(chunk_size=20_000):
        tree.append(bytes.fromhex(leaf), on_node=keep)
    TreeNode.objects.bulk_create(pending)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0004_treenode_append_only")]

    # The nodes are derived from the leaves: going back leaves them for 0003 to drop.
    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
