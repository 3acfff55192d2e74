"""Messages for the evidence log; each tells an operator what to do next."""

SIGNING_KEY_MISSING = (
    "No evidence signing key: set EVIDENCE_SIGNING_KEY_FILE to an Ed25519 private key file "
    "(PEM or raw base64), or EVIDENCE_SIGNING_KEY to its contents."
)
SIGNING_KEY_UNREADABLE = (
    "The evidence signing key is neither an Ed25519 PEM private key nor 32 raw bytes in base64: "
    "generate one with `openssl genpkey -algorithm ed25519`."
)
TRUSTED_KEY_UNREADABLE = (
    "An entry of EVIDENCE_TRUSTED_PUBLIC_KEYS is not a 32-byte Ed25519 public key in base64."
)
SINK_HEAD_EXISTS = (
    "A signed tree head of this size is already in the evidence sink; heads are never "
    "overwritten. Run `manage.py verify_evidence` to find out how the table and sink diverged."
)
HEAD_NOT_PUBLISHED = (
    "No signed tree head of that size has been published. The latest is at "
    "/evidence/signed-heads/latest.json; a receipt names the size of the head it was proved against."
)
