"""What consent tells the apps that depend on it, without importing them.

DESIGN §2: conversations asks consent, never the other way; a decision that other apps
must act on in the same transaction is a signal they receive.
"""

from django.dispatch import Signal

# Sent inside the deciding transaction, after the user's state is written, with ``user``,
# ``policy`` and ``now``; only when the user has conversations. conversations.receivers
# recomputes their retain_until (DESIGN §4 rule 2).
decision_recorded = Signal()

# Sent inside the lockout task's transaction with ``user_ids``, ``policy`` (the decision
# basis) and ``now``, for a batch of users still undecided after the deadline: their
# opt-ins under the previous basis no longer keep the opt-in retention, and
# conversations.receivers recomputes their retain_until (DESIGN §4 rule 2).
lockouts_recorded = Signal()
