"""Per-process memos of small configuration tables read on every consent screen.

Policies, pop-up designs and running experiments are a handful of rows that change a
few times a year, yet the consent screens read them on every request. Loading them
through the ORM cost more than rendering the page (bench/load.py), so each process
keeps them for a short while instead:

- a save or delete through the ORM in this process clears the memo at once and again
  when the transaction commits (``forget_on_change``);
- a change made by another process is seen within ``seconds``.

Where a stale copy could change what a record claims (the copy of a design), the
consent service checks a digest signed into the form instead of trusting the memo.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

from django.db import transaction
from django.db.models.signals import post_delete, post_save

T = TypeVar("T")

DEFAULT_SECONDS = 60


class ProcessMemo(Generic[T]):
    _instances: list[ProcessMemo] = []

    def __init__(self, name: str, load: Callable[[], T], *, seconds: float = DEFAULT_SECONDS):
        self.name = name
        self._load = load
        self.seconds = seconds
        self._lock = threading.Lock()
        self._value: tuple[float, T] | None = None
        ProcessMemo._instances.append(self)

    def get(self) -> T:
        memo = self._value
        if memo is not None and memo[0] > time.monotonic():
            return memo[1]
        with self._lock:
            value = self._load()
            self._value = (time.monotonic() + self.seconds, value)
        return value

    def forget(self, **_signal_kwargs) -> None:
        self._value = None
        # A reader in this process may reload before the writer's transaction commits
        # (and so see the old rows); clearing again at commit closes that window.
        transaction.on_commit(self._clear, robust=True)

    def _clear(self) -> None:
        self._value = None

    def forget_on_change(self, *models) -> None:
        """Clear this memo whenever one of ``models`` is saved or deleted through the ORM."""
        for model in models:
            uid = f"memo-{self.name}-{model._meta.label_lower}"
            post_save.connect(self.forget, sender=model, dispatch_uid=f"{uid}-save", weak=False)
            post_delete.connect(self.forget, sender=model, dispatch_uid=f"{uid}-delete", weak=False)

    @classmethod
    def forget_all(cls) -> None:
        """For tests and for writes that bypass signals (``QuerySet.update``)."""
        for memo in cls._instances:
            memo._clear()
