"""The app import graph (tools/import_graph.py) as a test: DESIGN §2, dependencies point one way."""

import subprocess
import sys
from pathlib import Path

from tools.import_graph import find_cycles, scan

ROOT = Path(__file__).resolve().parent.parent


def test_conversations_and_retention_depend_one_way():
    edges, _ = scan()

    assert "conversations" in edges["retention"]
    assert "retention" not in {
        target
        for target, places in edges["conversations"].items()
        # conversations/admin.py's hold action is the one edge left (see docs/architecture.md).
        if any(not place.startswith("conversations/admin.py") for place in places)
    }


def test_no_module_hides_an_app_import_inside_a_function():
    _, hidden = scan()

    assert [line for line in hidden if line.startswith(("conversations/", "retention/"))] == []


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycles({"a": {"b": []}, "b": {"a": []}}) == [["a", "b"]]
    assert find_cycles({"a": {"b": []}, "b": {"c": []}}) == []


def test_the_command_prints_every_app_edge():
    result = subprocess.run(
        [sys.executable, "tools/import_graph.py"], cwd=ROOT, capture_output=True, text=True
    )

    assert "retention -> " in result.stdout
    assert "app-to-app edges" in result.stdout
