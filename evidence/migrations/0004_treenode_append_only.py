from django.db import migrations

from evidence.db import append_only_operations

node_forward, node_reverse = append_only_operations("TreeNode")


class Migration(migrations.Migration):
    dependencies = [("evidence", "0003_treenode")]

    operations = [migrations.RunPython(node_forward, node_reverse)]
