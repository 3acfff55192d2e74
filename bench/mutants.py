"""Mutation testing of the DESIGN §4 rules: does the suite notice when a rule breaks?

Usage (from the repository root)::

    .venv/bin/python bench/mutants.py              # every mutant, 2 at a time
    .venv/bin/python bench/mutants.py --only gate-deadline-inclusive chain-missing-previous
    .venv/bin/python bench/mutants.py --list       # the catalogue, nothing run

Each mutant is one exact edit to a module that carries a rule (file, original snippet,
replacement, the rule it breaks) and the test files that should notice. For each, in a
private ``git worktree`` of HEAD (never the working tree others edit), the snippet is
replaced, the mapped tests run (``pytest -x``), the file is restored. A mutant is
*killed* when the tests fail, *survived* when they pass: a survivor is a missing test.
A mutant whose original snippet is no longer in the file exactly once is *stale*: the
catalogue must follow the code, so a stale mutant fails the run like a low score.

Before any mutant, each distinct test set runs once unmutated: a test that fails on HEAD
would "kill" every mutant, so it is named and left out (``--deselect``) of the mutant runs.

Exit status 0 when nothing is stale and the score (killed / (killed + survived)) reaches
``--min-score`` (95 by default). Only committed code is tested (HEAD): commit first.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"


@dataclass(frozen=True)
class Mutant:
    key: str
    path: str
    original: str
    replacement: str
    rule: str  # the DESIGN §4 rule (or §1 row) it breaks
    tests: tuple[str, ...]


GATE = ("tests/consent/test_gate.py",)
CHAIN = ("tests/consent/test_chain_tamper.py", "tests/consent/test_served_notices.py")
RECORDS = ("tests/consent/test_records.py", "tests/consent/test_replays.py")
ELIGIBILITY = ("tests/training/test_eligibility.py",)
LIFECYCLE = ("tests/consent/test_lifecycle.py",)
VERSIONS = ("tests/consent/test_policy_versions.py",)
PURGE_RULE = ("tests/retention/test_purge_rule.py", "tests/retention/test_holds.py")
MERKLE = ("tests/evidence/test_merkle.py",)
OUTBOX = ("tests/webhooks/test_outbox.py", "tests/webhooks/test_ordering.py")
DESIGN_LINT = (
    "tests/consent/test_design_lint_memo.py",
    "tests/consent/test_design_fallback_edges.py",
)

CATALOGUE: tuple[Mutant, ...] = (
    # --- The gate (rule 5) ---------------------------------------------------------------
    Mutant(
        "gate-deadline-inclusive",
        "consent/selectors.py",
        "    if now >= basis.deadline:",
        "    if now > basis.deadline:",
        "5: locked out from the deadline instant itself",
        GATE,
    ),
    Mutant(
        "design-lint-trusts-another-instance",
        "consent/selectors.py",
        "        if not any(v is variant for v in loaded):",
        "        if False:",
        "§1 (designs): a design failing the lint never reaches the EU/EEA/UK, whatever a "
        "loaded design with its id said",
        DESIGN_LINT,
    ),
    Mutant(
        "design-lint-one-group-for-all",
        "consent/selectors.py",
        "        key = (variant.pk, group)",
        "        key = variant.pk",
        "§1 (designs): whether a design may be shown is worked out per jurisdiction group",
        DESIGN_LINT,
    ),
    Mutant(
        "gate-new-user-boundary",
        "consent/selectors.py",
        "joined_after = user.date_joined >= basis.material.effective_at",
        "joined_after = user.date_joined > basis.material.effective_at",
        "5: a user who joined at effective_at is new (decides before using the product)",
        GATE,
    ),
    Mutant(
        "gate-deferral-never-ends",
        "consent/selectors.py",
        "deferred_recently = deferred_until is not None and deferred_until > now",
        "deferred_recently = deferred_until is not None",
        "5 / §1: a 'Not now' hides the notice for a while, not for good",
        GATE,
    ),
    Mutant(
        "gate-deferral-is-a-choice",
        "consent/selectors.py",
        "    if choice:\n        return GateStatus(policy=policy, choice=choice, requirement=Requirement.NONE)",
        "    if choice or deferred_until:\n"
        "        return GateStatus(policy=policy, choice=choice, requirement=Requirement.NONE)",
        "5: a deferral is not a decision (after the deadline it opens nothing)",
        GATE,
    ),
    Mutant(
        "gate-standing-any-policy",
        "consent/selectors.py",
        "WHERE s.user_id = u.{pk} AND s.policy_id IN ({versions})) AS consent_choice",
        "WHERE s.user_id = u.{pk} AND (s.policy_id IN ({versions}) OR 1 = 1)) AS consent_choice",
        "5 / §1: a decision under a superseded material version does not pass the gate",
        GATE + VERSIONS,
    ),
    Mutant(
        "gate-allow-list-widened",
        "consent/gate.py",
        "    return match.view_name in GATE_ALLOW_LIST",
        '    return match.view_name in GATE_ALLOW_LIST or match.view_name.startswith("conversations:")',
        "5: the product's pages stay behind the gate",
        ("tests/consent/test_gate_allow_list.py",),
    ),
    Mutant(
        "backend-standing-drops-deferral",
        "consent/backends.py",
        "            basis.version_ids, user.consent_choice, user.consent_deferred_until\n",
        "            basis.version_ids, user.consent_choice, None\n",
        "5 / §1: the standing loaded with the user is the database's (a 'Not now' included)",
        GATE,
    ),
    Mutant(
        "gate-preloaded-standing-any-basis",
        "consent/selectors.py",
        "        if preloaded.version_ids == basis.version_ids:\n            return preloaded",
        "        return preloaded",
        "4/5: a standing loaded under another decision basis is not reused",
        (*GATE, "tests/consent/test_live_policy.py"),
    ),
    # --- The chain (rules 4, 7) ----------------------------------------------------------
    Mutant(
        "chain-unlinked",
        "consent/chain.py",
        'return ((previous_hash or GENESIS) + "\\n" + record_canonical(record)).encode()',
        'return (GENESIS + "\\n" + record_canonical(record)).encode()',
        "7: each record's hash covers the previous record's",
        CHAIN,
    ),
    Mutant(
        "chain-missing-previous",
        "consent/chain.py",
        "        if record.previous_id and previous is None:",
        "        if False:",
        "7: a record whose previous record is missing is reported",
        CHAIN,
    ),
    Mutant(
        "chain-hash-unchecked",
        "consent/chain.py",
        "        if expected != record.record_hash:",
        "        if False:",
        "7: a changed record is detected",
        CHAIN,
    ),
    Mutant(
        "chain-two-starts",
        "consent/chain.py",
        "    if len(starts) != 1 and records:",
        "    if not starts and records:",
        "7: a chain has exactly one start (no forked or spliced history)",
        CHAIN,
    ),
    Mutant(
        "chain-toggle-touched-unhashed",
        "consent/chain.py",
        "    payload = {name: _canonical_value(getattr(record, name)) for name in HASHED_FIELDS}",
        "    payload = {\n"
        "        name: _canonical_value(getattr(record, name))\n"
        "        for name in HASHED_FIELDS\n"
        '        if name != "toggle_touched"\n'
        "    }",
        "7: every evidence field is in the hashed content",
        CHAIN,
    ),
    Mutant(
        "chain-served-notice-unhashed",
        "consent/chain.py",
        "    for name in HASHED_IF_SET:",
        "    for name in ():",
        "7: the serving a record answered is in its hash",
        CHAIN,
    ),
    # --- Decisions (rules 1, 2, 4, 6) ----------------------------------------------------
    Mutant(
        "decision-double-submit",
        "consent/services/decisions.py",
        "    if basis.form_used_by is not None or basis.form_deferred:",
        "    if basis.form_deferred:",
        "4: one rendered form gives at most one record",
        RECORDS,
    ),
    Mutant(
        "decision-replay-other-answer",
        "consent/services/decisions.py",
        "if existing is None or existing.user_id != user.pk or existing.choice != choice:",
        "if existing is None or existing.user_id != user.pk:",
        "4: a different answer on a used form is refused, not passed off as recorded",
        RECORDS,
    ),
    Mutant(
        "decision-cached-policy",
        "consent/services/decisions.py",
        "    policy_live_check(policy, live=live)\n\n    context = context or RequestContext()",
        "    context = context or RequestContext()",
        "4: decisions are checked against the live policy, never a cache",
        ("tests/consent/test_live_policy.py",),
    ),
    Mutant(
        "decision-form-policy-taken-as-live",
        "consent/services/decisions.py",
        "    live = policy if settled else policy_live(now=now)",
        "    live = policy",
        "4: the live policy is the database's, not the one the form was rendered under",
        ("tests/consent/test_live_policy.py",),
    ),
    Mutant(
        "decision-policy-taking-effect-during-the-lock-wait-missed",
        "consent/services/decisions.py",
        "    settled = basis.latest_policy_id == basis.live_policy_id == policy.pk",
        "    settled = basis.live_policy_id == policy.pk",
        "4: the policy checked is the one live once the user's lock is held",
        ("tests/consent/test_live_policy.py",),
    ),
    Mutant(
        "served-dialog-key-without-copy",
        "consent/presenters.py",
        "    parts += [form.variant_digest, form.copy_digest, surface]",
        "    parts += [form.variant_digest, surface]",
        "6: what a serving keeps is what was shown (reworded copy is never served from before)",
        ("tests/consent/test_dialog_skeleton.py",),
    ),
    Mutant(
        "decision-other-users-serving",
        "consent/services/surfaces.py",
        "        served_to_user_id is None\n        and form_serving is not None",
        "        form_serving is not None",
        "6: a form naming another person's serving is refused, even one describing its own",
        ("tests/consent/test_servings_behind.py",),
    ),
    Mutant(
        "answer-leaves-its-serving-unwritten",
        "consent/services/decisions.py",
        "            *([_serving_insert(serving)] if serving else []),",
        "            *([]),",
        "4/7: a record never points at a serving that was not written",
        ("tests/consent/test_servings_behind.py",),
    ),
    Mutant(
        "serving-behind-without-what-it-showed",
        "consent/services/surfaces.py",
        "    elif form.shown_copy_id != digest:",
        "    elif False:",
        "7: a serving written behind is one its answer can write whole",
        ("tests/consent/test_servings_behind.py",),
    ),
    Mutant(
        "decision-opt-in-run-restarts",
        "consent/services/decisions.py",
        "opt_in_since_id = basis.opt_in_since_id if continuing_opt_in else record.pk",
        "opt_in_since_id = record.pk",
        "1/2: confirming an opt-in keeps the run (its conversations stay covered)",
        LIFECYCLE + ELIGIBILITY,
    ),
    Mutant(
        "decision-opt-in-run-survives-opt-out",
        "consent/services/decisions.py",
        "        and basis.state_choice == Choice.OPT_IN\n",
        "",
        "1: an opt-out ends the run; opting in again covers nothing from before",
        LIFECYCLE + ELIGIBILITY,
    ),
    Mutant(
        "decision-no-retention-recompute",
        "consent/services/decisions.py",
        "    if basis.has_conversations:\n        # conversations recomputes",
        "    if False:\n        # conversations recomputes",
        "2: retain_until is recomputed whenever the choice changes",
        LIFECYCLE,
    ),
    # --- 'Not now' (rule 5) ---------------------------------------------------------------
    Mutant(
        "defer-at-deadline",
        "consent/services/deferrals.py",
        "    if now >= material.decision_deadline:",
        "    if now > material.decision_deadline:",
        "5: no 'Not now' from the deadline instant on",
        (*GATE, *VERSIONS),
    ),
    Mutant(
        "defer-new-user-at-effective-at",
        "consent/services/deferrals.py",
        "    if user.date_joined >= material.effective_at:",
        "    if user.date_joined > material.effective_at:",
        "5: a user who joined at effective_at may not defer",
        (*GATE, *VERSIONS),
    ),
    Mutant(
        "defer-past-deadline",
        "consent/services/deferrals.py",
        "    hidden_until = min(",
        "    hidden_until = max(",
        "5: a 'Not now' never reaches past the deadline",
        (*GATE, *VERSIONS),
    ),
    Mutant(
        "defer-after-decision-form",
        "consent/services/deferrals.py",
        "    if ConsentRecord.objects.filter(form_key=form_key).exists():",
        "    if False:",
        "4: a form already answered cannot also be deferred",
        (*GATE, "tests/consent/test_replays.py", "tests/consent/test_receipts_and_settings.py"),
    ),
    # --- The verified tip (rule 7) -------------------------------------------------------
    Mutant(
        "tip-superseded-record",
        "consent/tip.py",
        '            f"{p}latest_record__next_record__isnull": True,\n',
        "",
        "7: training acts only on the chain's tip",
        (*ELIGIBILITY, "tests/evidence/test_attacks.py"),
    ),
    Mutant(
        "tip-hash-unchecked",
        "consent/tip.py",
        '            f"{p}tip_hash": F(f"{p}latest_record__record_hash"),\n',
        "",
        "7: a state row whose tip hash disagrees covers nothing",
        (*ELIGIBILITY, "tests/evidence/test_attacks.py"),
    ),
    Mutant(
        "tip-other-users-record",
        "consent/tip.py",
        '            f"{p}latest_record__user_id": F(f"{p}user_id"),\n',
        "",
        "7: a state row naming another user's record covers nothing",
        (*ELIGIBILITY, "tests/evidence/test_attacks.py"),
    ),
    # --- Coverage and retention (rules 1, 2, 8) ------------------------------------------
    Mutant(
        "covered-any-run",
        "conversations/rules.py",
        '        decided_at__gte=F("user__consent_state__opt_in_since__decided_at"),\n',
        "",
        "1: only activity in the present opt-in run is covered",
        ELIGIBILITY,
    ),
    Mutant(
        "covered-other-owner",
        "conversations/rules.py",
        '        user_id=OuterRef("user_id"),\n        choice=Choice.OPT_IN,',
        "        choice=Choice.OPT_IN,",
        "1: covered_by must be the owner's own record",
        ELIGIBILITY,
    ),
    Mutant(
        "covered-grace-trains",
        "conversations/rules.py",
        "    return _in_present_run_q(policy_basis(policy).version_ids)",
        "    return _in_present_run_q(\n"
        "        policy_basis(policy).version_ids | _grace_versions(policy, now=timezone.now())\n"
        "    )",
        "1/2: an opt-in under the previous basis keeps retention, never training use",
        VERSIONS + ELIGIBILITY,
    ),
    Mutant(
        "grace-at-deadline",
        "conversations/rules.py",
        "return basis.previous_version_ids if now < basis.deadline else frozenset()",
        "return basis.previous_version_ids if now <= basis.deadline else frozenset()",
        "2: the previous basis's opt-in retention ends at the new deadline",
        VERSIONS,
    ),
    Mutant(
        "retain-covered-short",
        "conversations/rules.py",
        "        kept_until = last_activity_at + opt_in\n",
        "        kept_until = last_activity_at + opt_out\n",
        "2: a covered conversation is kept the opt-in retention",
        (*LIFECYCLE, "tests/conversations/test_status.py"),
    ),
    Mutant(
        "retain-temporary-long",
        "conversations/rules.py",
        "    if temporary:\n        return last_activity_at + opt_out",
        "    if temporary:\n        return last_activity_at + opt_in",
        "8: a temporary chat never outlives the opt-out retention",
        ("tests/conversations/test_temporary.py",),
    ),
    Mutant(
        "retain-no-safety-extension",
        "conversations/rules.py",
        "    if safety_flagged:\n        kept_until += safety_extension()",
        "    if safety_flagged:\n        kept_until += timedelta(0)",
        "2: a safety-flagged conversation is kept for review",
        ("tests/retention/test_safety.py",),
    ),
    Mutant(
        "expression-temporary-extended",
        "conversations/rules.py",
        "When(is_temporary=True, then=plus(opt_out)),",
        "When(is_temporary=True, then=plus(opt_out + extension)),",
        "8: a temporary chat gets no safety extension",
        ("tests/conversations/test_temporary.py",),
    ),
    Mutant(
        "expression-covered-short",
        "conversations/rules.py",
        "When(covered, then=plus(opt_in)),",
        "When(covered, then=plus(opt_out)),",
        "2: the recompute keeps covered conversations the opt-in retention",
        LIFECYCLE,
    ),
    Mutant(
        "activity-covers-temporary",
        "conversations/services.py",
        "state = None if conversation.is_temporary else _coverage_state(conversation.user, policy, now)",
        "state = _coverage_state(conversation.user, policy, now)",
        "8: a temporary chat is never covered",
        ("tests/conversations/test_temporary.py",),
    ),
    Mutant(
        "conversation-other-owner",
        "conversations/selectors.py",
        "        conversations, pk=conversation_id, user=user, deleted_by_user_at__isnull=True",
        "        conversations, pk=conversation_id, deleted_by_user_at__isnull=True",
        "6: nobody opens another user's conversation",
        ("tests/conversations/test_views.py",),
    ),
    Mutant(
        "is-covered-always",
        "conversations/selectors.py",
        "        .filter(rules.covered_q(policy=policy))\n        .exists()",
        "        .exists()",
        "1: conversation_is_covered is the coverage rule",
        ELIGIBILITY,
    ),
    # --- Holds and the purge (rule 3) ----------------------------------------------------
    Mutant(
        "hold-released-still-holds",
        "retention/selectors.py",
        "    return Q(released_at__isnull=True) & (Q(until__isnull=True) | Q(until__gt=at))",
        "    return Q(until__isnull=True) | Q(until__gt=at)",
        "3: a released hold keeps nothing",
        PURGE_RULE,
    ),
    Mutant(
        "hold-row-reason-ignored",
        "retention/selectors.py",
        '    return Q(hold_until__lte=at) | Q(hold_until__isnull=True, hold_reason="")',
        "    return Q(hold_until__lte=at) | Q(hold_until__isnull=True)",
        "3: a held conversation (reason, no end) is never purged",
        PURGE_RULE,
    ),
    Mutant(
        "hold-user-ignored-orm",
        "retention/selectors.py",
        '        & ~Exists(active.filter(user=OuterRef("user_id")))\n',
        "",
        "3: a hold on the user keeps every conversation of theirs",
        PURGE_RULE,
    ),
    Mutant(
        "hold-conversation-ignored-orm",
        "retention/selectors.py",
        '        & ~Exists(active.filter(conversation=OuterRef("pk")))\n',
        "",
        "3: a hold on a conversation keeps it",
        PURGE_RULE,
    ),
    Mutant(
        "purge-boundary-orm",
        "retention/selectors.py",
        "due = Conversation.objects.filter(retain_until__lt=cutoff)",
        "due = Conversation.objects.filter(retain_until__lte=cutoff)",
        "3: none with retain_until >= T is deleted",
        PURGE_RULE,
    ),
    Mutant(
        "purge-boundary-sql",
        "retention/services.py",
        "          AND {c}.retain_until < %s",
        "          AND {c}.retain_until <= %s",
        "3: the SQL copy deletes none with retain_until >= T",
        PURGE_RULE,
    ),
    Mutant(
        "hold-user-ignored-sql",
        "retention/services.py",
        "SELECT 1 FROM {hold} h WHERE h.user_id = {c}.user_id AND {active_hold}",
        "SELECT 1 FROM {hold} h WHERE h.user_id = {c}.user_id AND {active_hold} AND 1 = 0",
        "3: the SQL copy honours holds on the user",
        PURGE_RULE,
    ),
    Mutant(
        "hold-row-reason-ignored-sql",
        "retention/services.py",
        "AND ({c}.hold_until <= %s OR ({c}.hold_until IS NULL AND {c}.hold_reason = ''))",
        "AND ({c}.hold_until <= %s OR {c}.hold_until IS NULL)",
        "3: the SQL copy honours a row's open-ended hold",
        PURGE_RULE,
    ),
    Mutant(
        "hold-released-still-holds-sql",
        "retention/services.py",
        'active_hold = "h.released_at IS NULL AND (h.until IS NULL OR h.until > %s)"',
        'active_hold = "(h.until IS NULL OR h.until > %s)"',
        "3: the SQL copy lets a released hold go",
        PURGE_RULE,
    ),
    # --- Training eligibility (rules 1, 7, 8) --------------------------------------------
    Mutant(
        "eligible-deleted-by-owner",
        "training/selectors.py",
        "        deleted_by_user_at__isnull=True,\n        user__pseudonymised_at__isnull=True,",
        "        user__pseudonymised_at__isnull=True,",
        "1: a deleted conversation never reaches a snapshot",
        ELIGIBILITY,
    ),
    Mutant(
        "eligible-deleted-account",
        "training/selectors.py",
        "        user__pseudonymised_at__isnull=True,\n    )",
        "    )",
        "1: a deleted account's conversations never reach a snapshot",
        (*ELIGIBILITY, "tests/training/test_data_rights.py"),
    ),
    Mutant(
        "export-no-recheck-at-write",
        "training/services.py",
        "keep = _still_eligible([entry.conversation_id for entry in entries], policy=export.policy)",
        "keep = {entry.conversation_id for entry in entries}",
        "1: eligibility is checked again when a shard is written (an opt-out mid-export)",
        ("tests/training/test_sharded_export.py",),
    ),
    # --- The evidence log (rule 7) -------------------------------------------------------
    Mutant(
        "merkle-leaf-unprefixed",
        "evidence/merkle.py",
        '    return hashlib.sha256(b"\\x00" + data).digest()',
        "    return hashlib.sha256(data).digest()",
        "7: leaves and nodes hash apart (RFC 6962), so no node passes for a leaf",
        MERKLE,
    ),
    Mutant(
        "merkle-node-order",
        "evidence/merkle.py",
        '    return hashlib.sha256(b"\\x01" + left + right).digest()',
        '    return hashlib.sha256(b"\\x01" + right + left).digest()',
        "7: the log's order is in its root",
        MERKLE,
    ),
    Mutant(
        "merkle-inclusion-root-unchecked",
        "evidence/merkle.py",
        "    if r != root:\n        raise ProofError",
        "    if False:\n        raise ProofError",
        "7: an inclusion proof must lead to the signed root",
        MERKLE,
    ),
    Mutant(
        "merkle-same-size-two-roots",
        "evidence/merkle.py",
        "        if old_root != new_root:",
        "        if False:",
        "7: two roots for one tree size are a rewritten log",
        MERKLE,
    ),
    # --- The webhooks outbox (§1: every change reaches the systems holding the data) ------
    Mutant(
        "outbox-sequence-reused",
        "webhooks/services.py",
        "        next_sequence[subject] += 1\n",
        "",
        "§1 webhooks: each change of a person is one event, in order",
        OUTBOX,
    ),
    Mutant(
        "outbox-inserted-event-reuses-a-number",
        "webhooks/services.py",
        "        replace(_sequences_claim(Counter({subject: 1})), prepared=True),",
        "        replace(_sequences_claim(Counter({subject: 0})), prepared=True),",
        "§1 webhooks: each change of a person is one event, in order (the decision's path)",
        ("tests/webhooks/test_event_inserts.py", *OUTBOX),
    ),
    Mutant(
        "decision-without-its-log-leaf",
        "consent/services/decisions.py",
        "            record_log_insert(\n"
        "                record, previous_hash=basis.previous.record_hash if basis.previous else None\n"
        "            ),\n",
        "",
        "7: every decision is a leaf of the signed evidence log",
        ("tests/evidence/test_attacks.py", "tests/evidence/test_detection_properties.py"),
    ),
    Mutant(
        "outbox-event-names-the-person",
        "webhooks/services.py",
        "        record_id=str(draft.record_id),",
        "        record_id=str(draft.user_id),",
        "§1 webhooks: each change is its own event (not merged into the person's first)",
        OUTBOX,
    ),
)


@dataclass
class Outcome:
    mutant: Mutant
    status: str  # killed | survived | stale | timeout
    seconds: float = 0.0
    detail: str = ""


def _pytest(
    worktree: Path,
    tests: tuple[str, ...],
    timeout: float,
    *,
    deselect: tuple[str, ...] = (),
    first_failure: bool = True,
) -> tuple[int | None, str, list[str]]:
    """(exit status or None on timeout, pytest's last line, failed test ids)."""
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env.pop("DATABASE_URL", None)  # SQLite: a file per process, nothing shared
    command = [str(PYTHON), "-m", "pytest", "-q", "-rf", "-p", "no:randomly", *tests]
    command += ["-x"] if first_failure else []
    for test_id in deselect:
        command += ["--deselect", test_id]
    try:
        done = subprocess.run(
            command, cwd=worktree, env=env, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        return None, "timed out", []
    lines = [line for line in done.stdout.splitlines() if line.strip()]
    failed = [line.split()[1] for line in lines if line.startswith(("FAILED ", "ERROR "))]
    return done.returncode, (lines[-1] if lines else done.stderr.strip()[-200:]), failed


class Worktrees:
    """A pool of private worktrees of HEAD, one per parallel job."""

    def __init__(self, jobs: int):
        self.base = Path(tempfile.mkdtemp(prefix="mutants-"))
        self.free: list[Path] = []
        for n in range(jobs):
            path = self.base / f"wt{n}"
            subprocess.run(
                ["git", "worktree", "add", "--detach", "-q", str(path), "HEAD"],
                cwd=ROOT,
                check=True,
            )
            (path / "var").mkdir(exist_ok=True)
            self.free.append(path)

    def close(self) -> None:
        for n in range(len(list(self.base.iterdir()))):
            subprocess.run(
                ["git", "worktree", "remove", "--force", str(self.base / f"wt{n}")],
                cwd=ROOT,
                check=False,
            )
        shutil.rmtree(self.base, ignore_errors=True)


def _stale(mutant: Mutant, worktree: Path) -> str | None:
    path = worktree / mutant.path
    if not path.exists():
        return f"{mutant.path} no longer exists"
    count = path.read_text().count(mutant.original)
    return None if count == 1 else f"original snippet found {count} times in {mutant.path}"


def run_mutant(
    mutant: Mutant, worktree: Path, timeout: float, deselect: tuple[str, ...] = ()
) -> Outcome:
    stale = _stale(mutant, worktree)
    if stale:
        return Outcome(mutant, "stale", detail=stale)
    path = worktree / mutant.path
    source = path.read_text()
    path.write_text(source.replace(mutant.original, mutant.replacement))
    started = time.monotonic()
    try:
        code, last, _ = _pytest(worktree, mutant.tests, timeout, deselect=deselect)
    finally:
        path.write_text(source)
    seconds = time.monotonic() - started
    if code is None:
        return Outcome(mutant, "timeout", seconds, last)  # counted as killed: it never passes
    return Outcome(mutant, "survived" if code == 0 else "killed", seconds, last)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", nargs="*", help="run these mutant keys only")
    parser.add_argument("--jobs", type=int, default=2, help="parallel worktrees (2 cores: 2)")
    parser.add_argument("--timeout", type=float, default=600, help="seconds per test run")
    parser.add_argument("--min-score", type=float, default=95.0)
    parser.add_argument("--list", action="store_true", help="print the catalogue and stop")
    parser.add_argument("--no-baseline", action="store_true", help="skip the unmutated runs")
    args = parser.parse_args(argv)

    mutants = [m for m in CATALOGUE if not args.only or m.key in args.only]
    if args.only and len(mutants) != len(set(args.only)):
        known = {m.key for m in CATALOGUE}
        parser.error(f"unknown mutant(s): {', '.join(sorted(set(args.only) - known))}")
    if args.list:
        for m in mutants:
            print(f"{m.key:40} {m.path:32} rule {m.rule}")
        print(f"{len(mutants)} mutants")
        return 0

    pool = Worktrees(max(1, args.jobs))
    head = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    print(f"{len(mutants)} mutants against HEAD {head}, {args.jobs} at a time")
    try:
        with ThreadPoolExecutor(max_workers=len(pool.free)) as executor:

            def on_free_worktree(job):
                worktree = pool.free.pop()
                try:
                    return job(worktree)
                finally:
                    pool.free.append(worktree)

            failing: set[str] = set()
            if not args.no_baseline:
                test_sets = sorted({m.tests for m in mutants})
                for tests, (code, last, failed) in zip(
                    test_sets,
                    executor.map(
                        lambda tests: on_free_worktree(
                            lambda wt: _pytest(wt, tests, args.timeout, first_failure=False)
                        ),
                        test_sets,
                    ),
                    strict=True,
                ):
                    if code != 0:
                        print(f"BASELINE FAILS on HEAD: {' '.join(tests)}: {last}", flush=True)
                        for test_id in failed:
                            print(f"  left out of the mutant runs: {test_id}", flush=True)
                        failing.update(failed)
            outcomes = []
            for outcome in executor.map(
                lambda m: on_free_worktree(
                    lambda wt: run_mutant(
                        m,
                        wt,
                        args.timeout,
                        tuple(t for t in failing if t.split("::")[0] in m.tests),
                    )
                ),
                mutants,
            ):
                outcomes.append(outcome)
                m = outcome.mutant
                print(
                    f"{outcome.status.upper():9} {m.key:40} {outcome.seconds:5.0f} s  "
                    f"rule {m.rule}"
                    + (f"  [{outcome.detail}]" if outcome.status != "killed" else ""),
                    flush=True,
                )
    finally:
        pool.close()

    killed = sum(o.status in ("killed", "timeout") for o in outcomes)
    survived = [o for o in outcomes if o.status == "survived"]
    stale = [o for o in outcomes if o.status == "stale"]
    scored = killed + len(survived)
    score = 100.0 * killed / scored if scored else 0.0
    print(
        f"mutation score {score:.1f}% ({killed} killed, {len(survived)} survived, "
        f"{len(stale)} stale, of {len(outcomes)})"
    )
    for o in survived:
        print(
            f"  survivor: {o.mutant.key} ({o.mutant.path}): a missing test for rule {o.mutant.rule}"
        )
    for o in stale:
        print(f"  stale: {o.mutant.key}: {o.detail}: update the catalogue")
    return 0 if not stale and score >= args.min_score else 1


if __name__ == "__main__":
    sys.exit(main())
