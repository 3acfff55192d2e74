"""Enqueueing from a request: a broker outage is a message to the person, never a 500.

Chat posts enqueue after commit with ``transaction.on_commit(..., robust=True)``
(``conversation_safety_classify_enqueue``): the message is saved, nobody needs to hear
about the background check. A staff button whose whole effect *is* the enqueue must
instead say whether it happened, so it sends now and learns the answer:
``task_enqueue`` returns False (and logs) when the broker refuses. Call it only where
nothing was written before it, or after that write committed, so a refusal leaves
nothing half-done.
"""

import logging

from celery import Task
from kombu.exceptions import OperationalError

logger = logging.getLogger(__name__)

# What publishing raises when the broker is unreachable: kombu wraps transport errors in
# OperationalError once its retries are spent; socket and file errors are OSErrors.
BROKER_ERRORS = (OperationalError, OSError)


def task_enqueue(task: Task, *, args=(), kwargs=None, **options) -> bool:
    """Send ``task(*args, **kwargs)`` to the broker now; False if the broker refused it.

    ``options`` go to ``apply_async`` as they are (queue, headers, countdown, ...).
    """
    try:
        task.apply_async(args=args, kwargs=kwargs or {}, **options)
    except BROKER_ERRORS:
        logger.exception("could not enqueue %s: the broker refused it", task.name)
        return False
    return True
