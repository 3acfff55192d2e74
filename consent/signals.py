"""What consent tells the apps that depend on it, without importing them.

DESIGN §2: conversations asks consent, never the other way; a decision that other apps
must act on in the same transaction is a signal they receive.
"""

from django.dispatch import Signal

# Sent inside the deciding transaction, after the user's state is written, with ``user``,
# ``policy`` and ``now``; only when the user has conversations. conversations.receivers
# recomputes their retain_until (DESIGN §4 rule 2).
decision_recorded = Signal()

# Sent by every run of the lockout task with ``policy`` (the current one), ``now``,
# ``batch_size`` and ``max_batches``: an opt-in under an earlier decision basis keeps its
# retention only until the current basis's deadline (DESIGN §4 rule 2), so
# conversations.receivers recomputes, in bounded batches, every chat whose retain_until no
# longer follows the rule (the undecided past the deadline, or superseded twice).
opt_ins_lapsed = Signal()
