"""Measure redaction on the labelled corpus: per-category recall, clean messages kept,
throughput, against the previous redactor in the same run.

    python bench/redaction.py                 # table + throughput, best of 3 rounds
    python bench/redaction.py --misses email  # also list what leaked in one category
    python bench/redaction.py --repeat 5

Corpus: ``tests/data/redaction_corpus.jsonl`` (``tools/make_redaction_corpus.py``). Each
message is redacted with its locale's region as the hint, as the export does with the
owner's country. A labelled value counts as removed when neither the value nor any of its
word pieces (3+ characters; 2+ outside ASCII) is left in the output beyond what the
unlabelled rest of the message already held: a half-redacted IBAN counts as a leak.

Baseline: the redactor as first shipped (``training/redaction.py`` at ``BASELINE_COMMIT``,
loaded from git), run on the same corpus in the same process, rounds alternating.
No database, no Django: runs anywhere the project's virtualenv does.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "data" / "redaction_corpus.jsonl"
BASELINE_COMMIT = "54dc74a"  # "training: redaction of PII and secrets before export"

# Categories a pattern plus a validator can find; names and street addresses need more.
STRUCTURED = ("email", "phone", "card", "iban", "national_id", "ip", "secret")
UNSTRUCTURED = ("name", "street_address")
TARGET_RECALL = 0.98
TARGET_CLEAN = 0.97
TARGET_RATE = 10_000

_PIECE = re.compile(r"\w+")

Redactor = Callable[[str, str], str]  # (text, region) -> redacted text


def load_corpus(path: Path = CORPUS) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def _pieces(value: str) -> set[str]:
    return {
        piece
        for piece in _PIECE.findall(value)
        if len(piece) >= 3 or (len(piece) >= 2 and not piece.isascii())
    }


def span_leaked(message: dict, span: dict, redacted: str) -> bool:
    """Whether any part of the labelled value survives in ``redacted``."""
    text = message["text"]
    rest = text
    for other in sorted(message["spans"], key=lambda s: s["start"], reverse=True):
        rest = rest[: other["start"]] + "\0" + rest[other["end"] :]
    value = span["value"]
    return any(redacted.count(piece) > rest.count(piece) for piece in (value, *_pieces(value)))


@dataclass
class Score:
    found: Counter
    total: Counter
    clean_kept: int
    clean_total: int
    misses: dict[str, list[tuple[str, str, str]]]  # category -> (id, value, output)

    def recall(self, category: str) -> float:
        return self.found[category] / self.total[category] if self.total[category] else 1.0

    @property
    def clean_rate(self) -> float:
        return self.clean_kept / self.clean_total if self.clean_total else 1.0

    def structured_recall(self) -> float:
        found = sum(self.found[c] for c in STRUCTURED)
        total = sum(self.total[c] for c in STRUCTURED)
        return found / total if total else 1.0


def score(corpus: list[dict], redactor: Redactor) -> Score:
    found: Counter = Counter()
    total: Counter = Counter()
    misses: dict[str, list[tuple[str, str, str]]] = defaultdict(list)
    clean_kept = clean_total = 0
    for message in corpus:
        redacted = redactor(message["text"], message["region"])
        if message["kind"] == "clean":
            clean_total += 1
            if redacted == message["text"]:
                clean_kept += 1
            else:
                misses["clean"].append((message["id"], message["text"], redacted))
            continue
        for span in message["spans"]:
            category = span["category"]
            total[category] += 1
            if span_leaked(message, span, redacted):
                misses[category].append((message["id"], span["value"], redacted))
            else:
                found[category] += 1
    return Score(found, total, clean_kept, clean_total, dict(misses))


def current_redactor() -> Redactor:
    sys.path.insert(0, str(ROOT))
    from training.redaction import redact_text

    return lambda text, region: redact_text(text, default_region=region)


def baseline_redactor() -> Redactor:
    source = subprocess.run(
        ["git", "show", f"{BASELINE_COMMIT}:training/redaction.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    with tempfile.NamedTemporaryFile("w", suffix=".py", delete=False) as handle:
        handle.write(source)
    spec = importlib.util.spec_from_file_location("redaction_baseline", handle.name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    Path(handle.name).unlink()
    return lambda text, region: module.redact_text(text, default_region=region)


def rate(corpus: list[dict], redactor: Redactor) -> float:
    """Messages per second over the whole corpus, one process."""
    started = time.perf_counter()
    for message in corpus:
        redactor(message["text"], message["region"])
    return len(corpus) / (time.perf_counter() - started)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=3, help="throughput rounds (best counts)")
    parser.add_argument("--misses", nargs="*", default=[], help="categories whose misses to list")
    args = parser.parse_args()

    corpus = load_corpus()
    redactors = {"baseline": baseline_redactor(), "current": current_redactor()}
    # Warm-up: phonenumbers loads region metadata lazily on first use.
    scores = {name: score(corpus, redactor) for name, redactor in redactors.items()}
    rates: dict[str, list[float]] = {name: [] for name in redactors}
    for round_ in range(args.repeat):
        order = list(redactors) if round_ % 2 == 0 else list(reversed(redactors))
        for name in order:
            rates[name].append(rate(corpus, redactors[name]))

    before, after = scores["baseline"], scores["current"]
    sensitive = sum(1 for m in corpus if m["kind"] == "sensitive")
    print(f"corpus: {len(corpus)} messages ({sensitive} sensitive, {after.clean_total} clean)")
    print(f"baseline: training/redaction.py at {BASELINE_COMMIT}\n")
    print("| category | items | recall before | recall after | target |")
    print("| --- | --- | --- | --- | --- |")
    for category in (*STRUCTURED, *UNSTRUCTURED):
        target = f">= {TARGET_RECALL}" if category in STRUCTURED else "reported"
        print(
            f"| {category} | {after.total[category]} | {before.recall(category):.3f} "
            f"| {after.recall(category):.3f} | {target} |"
        )
    print(
        f"| structured, all | {sum(after.total[c] for c in STRUCTURED)} "
        f"| {before.structured_recall():.3f} | {after.structured_recall():.3f} | >= {TARGET_RECALL} |"
    )
    print(
        f"| clean messages unchanged | {after.clean_total} | {before.clean_rate:.3f} "
        f"| {after.clean_rate:.3f} | >= {TARGET_CLEAN} |"
    )
    best = {name: max(values) for name, values in rates.items()}
    print(
        f"\nthroughput (messages/s, one process, best of {args.repeat}): "
        f"baseline {best['baseline']:,.0f}, current {best['current']:,.0f}, "
        f"ratio {best['current'] / best['baseline']:.2f}"
    )
    met = {
        "structured recall": all(after.recall(c) >= TARGET_RECALL for c in STRUCTURED),
        "clean unchanged": after.clean_rate >= TARGET_CLEAN,
        "throughput": best["current"] >= TARGET_RATE,
    }
    print("targets: " + ", ".join(f"{k} {'met' if v else 'NOT met'}" for k, v in met.items()))
    for category in args.misses:
        print(f"\nmisses in {category}:")
        for message_id, value, output in after.misses.get(category, []):
            print(f"  {message_id}: {value!r}\n    -> {output!r}")
    return 0 if all(met.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
