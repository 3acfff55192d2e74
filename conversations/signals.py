"""What conversations asks of the apps that depend on it, without importing them.

DESIGN §2: dependencies point one way (retention -> conversations), so a question
conversations must ask retention is a signal retention answers.
"""

from django.dispatch import Signal

# Sent by ``conversation_delete`` with the locked ``conversation`` before its owner's delete
# removes it. A receiver answers True to keep the rows: a legal hold outranks the owner's
# delete (retention.receivers).
owner_delete_held = Signal()

# Sent by ``conversation_delete`` with ``conversation_id``, ``user_id`` and ``deleted_at``,
# inside the deleting transaction, for every delete by the owner (held or not). Training
# remembers when a conversation it used was withdrawn (training.receivers).
owner_deleted = Signal()
