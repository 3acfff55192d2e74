"""Append-only enforcement for consent's immutable tables (and training's, which use it too).

The trigger SQL is ``config.append_only``, shared with the evidence log; this module keeps
the names the migrations already import.
"""

from config.append_only import APPEND_ONLY_MESSAGE, trigger_statements
from config.append_only import append_only_operations as _operations

__all__ = ["APPEND_ONLY_MESSAGE", "append_only_operations"]


def _statements(vendor: str, table: str) -> tuple[list[str], list[str]]:
    return trigger_statements(vendor, table)


def append_only_operations(app_label: str, model_name: str):
    """A (forward, reverse) pair for migrations.RunPython."""
    return _operations(app_label, model_name)
