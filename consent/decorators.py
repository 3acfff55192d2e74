"""Marks views that an undecided user may still reach (DESIGN §4 rule 5)."""

from collections.abc import Callable
from functools import wraps


def consent_gate_exempt(view: Callable) -> Callable:
    """Let the view through the consent gate: the decision screen, logout, the policy text."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        return view(*args, **kwargs)

    wrapped.consent_gate_exempt = True
    return wrapped
