"""What an undecided user may still reach: the consent gate's one allow-list (DESIGN §4 rule 5).

After the deadline (and for a new user, from the first login) an undecided user is
sent to the decision screen from every page, htmx partial and API endpoint except
those named here. Each entry says why it stays open. Data rights come first: a
person's rights under the GDPR cannot wait behind a consent question (Art. 7(4):
consent is not freely given if something unrelated is made conditional on it).

The list holds URL names, not view attributes, so that it is one place to review, a
test compares it with every URL the project has (tests/consent/test_gate_allow_list.py),
and a renamed or newly mounted URL is gated until someone adds it here: the list fails
closed. ``"<namespace>:*"`` covers a whole namespace (admin only: every registered
model adds names to it).
"""

from django.urls import ResolverMatch

GATE_ALLOW_LIST: dict[str, str] = {
    # The way out of the gate.
    "consent:decide": "The decision screen itself: answering is what unlocks the product.",
    "consent:defer": (
        "The notice's 'Not now': after the deadline or on a first login it answers why the "
        "decision cannot be postponed (409) instead of a bare redirect."
    ),
    "accounts:logout": "Leaving is always possible: nobody is held inside a consent question.",
    "accounts:login": (
        "Signing in, or switching accounts; a signed-in visitor is only sent on to where they "
        "land (staff who never chat: admin), so the page shows nothing of the product."
    ),
    # What the person is asked to agree to.
    "consent:policy_current": "The policy text: GDPR Art. 12/13, read before deciding.",
    "consent:policy": "A policy version's text, linked from receipts: GDPR Art. 12/13.",
    # Data rights (GDPR Art. 12: rights are facilitated, never tied to a choice).
    "consent:privacy_settings": (
        "Privacy settings, read-only until they decide: the current state, the deadline, "
        "receipts, training use and the data-rights links (Art. 12/15). Changing the choice "
        "there (consent:privacy_change) stays gated: the first answer is given on the decision "
        "screen, whose record proves what was shown."
    ),
    "consent:receipt": "Receipts of earlier decisions: access to one's own records, Art. 15.",
    "consent:receipt_json": "The same receipt as a file: access and portability, Art. 15/20.",
    "consent:receipt_shown": "Exactly what a receipt's decision showed: access, Art. 15.",
    "evidence:verify_help": (
        "How to check a receipt offline, linked from privacy settings beside the receipts: "
        "part of access to one's own records (Art. 15); public, so auditors can read it too."
    ),
    "evidence:verifier_download": "The receipt checker the help page offers: receipts are open.",
    "evidence:public_key": "The key receipts are checked with: public, as receipts are open.",
    "evidence:latest_head": "The latest signed tree head a receipt is checked against: public.",
    "evidence:signed_head": "A published signed tree head, named in a receipt: public.",
    "training:data_export": "Download my data: right of access and portability, Art. 15/20.",
    "training:account_delete": "Delete my account: right to erasure, Art. 17.",
    "accounts:language": (
        "The language switcher: a person must be able to read the question before answering "
        "it (Art. 12: clear and plain language), so it works on the decision screen too."
    ),
    "accounts:password_change": "Securing the account (Art. 32) never waits on the choice.",
    "accounts:password_change_done": "The confirmation that the password changed.",
    "accounts:password_reset": "Recovering a lost password, signed in or not (Art. 32).",
    "accounts:password_reset_done": "The 'check your email' page of a reset.",
    "accounts:password_reset_confirm": "The emailed reset link: setting a new password.",
    "accounts:password_reset_complete": "The confirmation that the reset worked.",
    # Operators' tools, not the product: each checks its own permission.
    "admin:*": "Django admin: a staff tool outside the gate (DESIGN §4 rule 5), staff-only.",
    "experiments:list": "Analysts' results pages: an operator tool (experiments.view_results).",
    "experiments:dashboard": "Analysts' results pages: an operator tool (experiments.view_results).",
    "experiments:results_csv": "Analysts' results as CSV: an operator tool (experiments.view_results).",
    "experiments:design_preview": "A design as analysts read it beside results (experiments.view_results).",
    # Mounted by bench.urls only, never by the product's config.urls.
    "bench_minimal": "bench/load.py's baseline page: measured without the gate, by design.",
    "bench_insert": "bench/load.py's baseline write: measured without the gate, by design.",
}

_ALLOWED_NAMESPACES = frozenset(
    name.removesuffix(":*") for name in GATE_ALLOW_LIST if name.endswith(":*")
)


def gate_allows(match: ResolverMatch | None) -> bool:
    """Whether the resolved URL stays open to a user the gate would otherwise stop."""
    if match is None:
        return False
    if match.namespaces and match.namespaces[0] in _ALLOWED_NAMESPACES:
        return True
    return match.view_name in GATE_ALLOW_LIST
