"""The app import graph (tools/import_graph.py) as a test: DESIGN §2, dependencies point one way."""

import subprocess
import sys
from pathlib import Path

from tools.import_graph import APPS, find_cycles, scan

ROOT = Path(__file__).resolve().parent.parent


def test_no_two_apps_depend_on_each_other_through_any_chain():
    edges, _ = scan()

    assert find_cycles(edges) == []


def test_no_module_of_any_app_hides_an_app_import_inside_a_function():
    _, hidden = scan()

    assert hidden == []


def test_every_app_imports_only_apps_below_it_in_the_documented_order():
    # APPS is the map of docs/architecture.md, lowest first: an edge upwards is a new
    # dependency that the map (and DESIGN §2) must be changed for first.
    edges, _ = scan()

    upward = [
        f"{app} -> {target}: {places[0]}"
        for app, targets in edges.items()
        for target, places in targets.items()
        if APPS.index(target) > APPS.index(app)
    ]
    assert upward == []


def test_consent_imports_none_of_the_apps_that_read_it():
    edges, _ = scan()

    readers = {"experiments", "conversations", "retention", "training", "api", "demo"}
    assert readers & set(edges["consent"]) == set()


def test_the_cycle_finder_finds_a_cycle_and_only_a_cycle():
    assert find_cycles({"a": {"b": []}, "b": {"a": []}}) == [["a", "b"]]
    assert find_cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}}) == [["a", "b", "c"]]
    assert find_cycles({"a": {"b": []}, "b": {"c": []}}) == []


def test_a_hidden_import_is_found(tmp_path):
    (tmp_path / "consent").mkdir()
    (tmp_path / "consent" / "late.py").write_text(
        "def f():\n    from training.selectors import training_uses_for\n"
    )

    _, hidden = scan(tmp_path)

    assert hidden == ["consent/late.py:2 imports training.selectors inside a function or class"]


def test_the_command_prints_every_app_edge_and_passes():
    result = subprocess.run(
        [sys.executable, "tools/import_graph.py"], cwd=ROOT, capture_output=True, text=True
    )

    assert "retention -> " in result.stdout
    assert "0 cycle(s), 0 import(s) inside functions" in result.stdout
    assert result.returncode == 0, result.stderr
