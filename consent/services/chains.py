"""Verifying every user's consent chain (DESIGN §4 rule 4)."""

from collections.abc import Iterator

from ..chain import ChainBreak, chain_verify_user
from ..models import ConsentRecord


def consent_chains_verify(
    *, user_ids: list[int] | None = None, batch_size: int = 500
) -> Iterator[ChainBreak]:
    """Yield every break in every user's chain, a batch of users at a time."""
    users = ConsentRecord.objects.values_list("user_id", flat=True).distinct().order_by("user_id")
    if user_ids is not None:
        users = users.filter(user_id__in=user_ids)
    user_list = list(users)
    for start in range(0, len(user_list), batch_size):
        chunk = user_list[start : start + batch_size]
        records_by_user: dict[int, list[ConsentRecord]] = {uid: [] for uid in chunk}
        for record in ConsentRecord.objects.filter(user_id__in=chunk).order_by("decided_at"):
            records_by_user[record.user_id].append(record)
        for records in records_by_user.values():
            yield from chain_verify_user(records)
