"""The state row is a cache of the chain tip, checked, never trusted (DESIGN §4 rule 7).

A user's consent counts for training use only when their ``UserConsentState`` still
names the actual last record of their chain (no record follows it), carries that
record's hash, and the *record* says ``opt_in`` under the current decision basis. A state row
flipped by hand, or pointed at an earlier record after its successor was deleted, fails
this and blocks the user until ``manage.py verify_evidence`` has been read and the chain
repaired. Pure: builds expressions, queries nothing.
"""

from collections.abc import Iterable

from django.db.models import F, Q

from .models import Choice


def verified_opt_in_q(*, policy_ids: Iterable[int], prefix: str = "") -> Q:
    """Filter on UserConsentState (or through ``prefix``, e.g. ``"user__consent_state__"``).

    ``policy_ids``: the versions whose opt-ins count (``consent.selectors.PolicyBasis``).
    """
    # Sorted so the SQL is the same for the same versions. No versions match nothing, as
    # any ``__in=[]`` does.
    policy_ids = sorted(policy_ids)
    p = prefix
    return Q(
        **{
            f"{p}policy_id__in": policy_ids,
            f"{p}choice": Choice.OPT_IN,
            f"{p}latest_record__policy_id__in": policy_ids,
            f"{p}latest_record__choice": Choice.OPT_IN,
            f"{p}latest_record__user_id": F(f"{p}user_id"),
            f"{p}tip_hash": F(f"{p}latest_record__record_hash"),
            f"{p}latest_record__next_record__isnull": True,
        }
    )


def state_mismatch_q(prefix: str = "") -> Q:
    """State rows that disagree with their chain: reported, and never opted in."""
    p = prefix
    return (
        ~Q(**{f"{p}tip_hash": F(f"{p}latest_record__record_hash")})
        | ~Q(**{f"{p}choice": F(f"{p}latest_record__choice")})
        | ~Q(**{f"{p}policy": F(f"{p}latest_record__policy")})
        | ~Q(**{f"{p}latest_record__user_id": F(f"{p}user_id")})
        | Q(**{f"{p}latest_record__next_record__isnull": False})
    )
