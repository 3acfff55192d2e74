"""The coverage gate CI applies after the SQLite test run (``.ci/run``), as Zulip does.

Usage: ``bin/test --cov --cov-branch --cov-report=`` (writes ``.coverage``), then
``python tools/coverage_gate.py``. Branch coverage (``[tool.coverage.run]`` in
pyproject.toml). The gate fails when:

- a module that carries a DESIGN §4 rule (``RULE_MODULES``, the one list of them) has a
  line or branch no test runs: an untested branch of a rule is a rule nobody checked
  (no exceptions: the shrink-only list of modules still short of 100% that this gate
  started with, Zulip's ``not_yet_fully_covered`` ratchet, is empty and gone);
- the project as a whole is under 90%.
"""

import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The modules that carry DESIGN §4 rules (and the §1 outbox), as globs from the root.
RULE_MODULES = (
    # Rules 4, 5, 6, 7: decisions, the gate, the chain, the verified tip.
    "consent/services/*.py",
    "consent/selectors.py",
    "consent/chain.py",
    "consent/tip.py",
    "consent/gate.py",
    "consent/backends.py",
    # Rules 1, 2, 8: coverage, retention arithmetic, temporary chats.
    "conversations/rules.py",
    "conversations/services.py",
    "conversations/selectors.py",
    # Rule 3: holds and the purge.
    "retention/services.py",
    "retention/selectors.py",
    # Rule 1: what reaches a snapshot.
    "training/selectors.py",
    "training/services.py",
    # Rule 7: the evidence log.
    "evidence/merkle.py",
    "evidence/services.py",
    # §1: every change reaches the systems that hold the data.
    "webhooks/services.py",
)

OVERALL_THRESHOLD = 90.0


def rule_files(root: Path = ROOT) -> list[str]:
    found = {
        str(path.relative_to(root))
        for pattern in RULE_MODULES
        for path in root.glob(pattern)
        if path.name != "__init__.py" or path.stat().st_size
    }
    return sorted(found)


def _measured() -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "coverage.json"
        subprocess.run(
            [sys.executable, "-m", "coverage", "json", "-q", "-o", str(out)], cwd=ROOT, check=True
        )
        return json.loads(out.read_text())


def check(report: dict, files: list[str]) -> list[str]:
    """Every reason the gate fails, given coverage's JSON report."""
    problems = []
    measured = report["files"]
    for name in files:
        summary = measured.get(name, {}).get("summary")
        if summary is None:
            problems.append(f"{name}: not measured (no test imports it?)")
            continue
        percent = summary["percent_covered"]
        missing = measured[name]["missing_lines"]
        partial = [f"{a}->{b}" for a, b in measured[name].get("missing_branches", [])]
        if percent < 100:
            problems.append(f"{name}: {percent:.1f}%, lines {missing}, branches {partial}")
    total = report["totals"]["percent_covered"]
    print(f"  whole project: {total:.1f}% (must be {OVERALL_THRESHOLD:.0f}%)")
    if total < OVERALL_THRESHOLD:
        problems.append(f"whole project: {total:.1f}% < {OVERALL_THRESHOLD:.0f}%")
    return problems


def main() -> int:
    files = rule_files()
    print(f"== coverage gate: {len(files)} rule modules at 100% (branch coverage)", flush=True)
    problems = check(_measured(), files)
    for problem in problems:
        print(f"COVERAGE GATE: {problem}", file=sys.stderr)
    if problems:
        return 1
    print("coverage gate: passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
