"""What every consent write checks first, under the user's lock (DESIGN §4 rule 4)."""

from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import connection

from config.statements import Statement, statements_run

from .. import errors
from ..errors import ConsentError
from ..models import Policy
from ..selectors import current_policy_live, policies_memo


def user_lock_statement(user) -> Statement:
    """The statement that serialises one user's consent writes: the user row is always
    locked first.

    A statement of its own: a read that waited for this lock must start after it is
    granted, or under READ COMMITTED it would see the user's chain as it was before the
    wait. Sent in one message with that read (config.statements), it still is: PostgreSQL
    gives each statement of a message its own snapshot, taken when it starts.
    """
    # Hand-written: the ORM's compiling cost more than the lock (bench/load.py, posts).
    meta = get_user_model()._meta
    table, key = connection.ops.quote_name(meta.db_table), connection.ops.quote_name(meta.pk.column)
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    return Statement(f"SELECT 1 FROM {table} WHERE {key} = %s{lock}", (user.pk,))


def user_lock(user) -> None:
    """Take the user's consent lock (``user_lock_statement``) now."""
    statements_run([user_lock_statement(user)])


def policy_live(*, now: datetime) -> Policy:
    """The policy in effect, from the database: per-process memos serve reads only."""
    policy = current_policy_live(now=now)
    if policy is None:
        raise ConsentError(errors.NO_POLICY, status=409, code="no_policy")
    return policy


def policy_live_check(policy: Policy, *, live: Policy) -> None:
    """Refuse a write under any policy but the live one (a form rendered before a newer one).

    Not recorded under the old policy, nor under the new one, whose text the person has
    not read; the screen shows the new policy's form instead (consent.views).
    """
    if live.pk != policy.pk:
        policies_memo.forget()  # this process's memo is behind the database: reload it
        raise ConsentError(errors.POLICY_SUPERSEDED, status=409, code="policy_superseded")
