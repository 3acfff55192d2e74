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
import threading
import time
from collections.abc import Callable

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


class CoalescedEnqueue:
    """Ask for a task that drains everything pending, at most twice per window per process.

    For tasks like ``webhooks_dispatch``, which deliver every event committed before they
    start: the first request in a window enqueues at once; every later one in the same
    window is answered by one run scheduled for the window's end, which starts after each
    of their commits and so sees their rows. Requests made after a commit only (on_commit).
    """

    def __init__(self, task: Callable[[], Task], *, window: Callable[[], float]):
        self._task = task  # resolved late: tasks modules import the services that use this
        self._window = window
        self._lock = threading.Lock()
        self._last = float("-inf")  # when this process last enqueued at once
        self._trailing = False  # a run for the end of the current window is enqueued
        self.clock = time.monotonic

    def request(self) -> bool:
        """Make sure a run starts after now; False if the broker refused the enqueue."""
        with self._lock:
            now, window = self.clock(), self._window()
            countdown = None
            if now - self._last >= window:
                self._last, self._trailing = now, False
            elif not self._trailing:
                self._trailing = True
                countdown = self._last + window - now
            else:
                return True  # the run already enqueued for the window's end starts later
        if countdown is None:
            return task_enqueue(self._task())
        return task_enqueue(self._task(), countdown=countdown)
