"""Signing in with the consent standing loaded alongside the user.

Every signed-in request loads its user, and the consent gate then needs the user's
choice under the current decision basis (an editorial version's choices carry over). Undecided users (every existing user while the notice
runs, every new user until they answer) would pay a second round trip on every page,
so the user's row and their standing come back from one hand-written statement.
"""

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend

from .selectors import (
    PRELOADED_STANDING_ATTR,
    Standing,
    current_policy,
    policy_basis,
    standing_params,
    standing_sql,
)


class ConsentStandingBackend(ModelBackend):
    """Django's model backend, whose session user arrives with its consent standing."""

    def get_user(self, user_id):
        policy = current_policy()
        if policy is None:
            return super().get_user(user_id)
        basis = policy_basis(policy)
        User = get_user_model()
        rows = User._default_manager.raw(
            standing_sql(with_user=True, versions=len(basis.version_ids)),
            standing_params(basis, user_id),
        )
        user = next(iter(rows), None)
        if user is None or not self.user_can_authenticate(user):
            return None
        standing = Standing.from_columns(
            basis.version_ids, user.consent_choice, user.consent_deferred_until
        )
        del user.consent_choice, user.consent_deferred_until
        setattr(user, PRELOADED_STANDING_ATTR, standing)
        return user
