"""What each conversation's status line says: is it used for training, and until when is it kept.

The coverage answer is the one coverage rule (``rules.covered_q``), read as the
``is_covered`` annotation the selectors put on every conversation they hand to a page;
nothing here decides coverage again. Dates are shown in the person's time zone when
their account has one, else in the site's zone, named, and a date that has passed is
never shown as a promise: such a chat is "due for deletion".
"""

import enum
import zoneinfo
from dataclasses import dataclass
from datetime import datetime, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _

from consent.models import Choice, Policy
from consent.wording import duration_words

from .models import Conversation
from .rules import retention_periods

COVERED = _("May be used to improve the model")
NOT_COVERED = _("Not used for training")
TEMPORARY = _("Temporary chat: never used for training, deleted {period} after its last message")
DUE_FOR_DELETION = _("Due for deletion")
KEPT_UNTIL = _("Kept until {date}")
REPLY_COVERS = _(
    "Replying will let this chat be used to improve the model, and keep it for {period}."
)
TEMPORARY_EXPLAINED = _(
    "Never used to improve the model, whatever your choice; deleted {period} after your "
    "last message."
)


class Coverage(enum.StrEnum):
    COVERED = "covered"
    NOT_COVERED = "not_covered"
    TEMPORARY = "temporary"


@dataclass(frozen=True)
class ConversationStatus:
    coverage: Coverage
    training: str  # the training half of the status line, in plain words
    kept_until: datetime | None  # in the display zone; None once due for deletion
    kept: str  # "Kept until 4 December 2026" or "Due for deletion"
    # Said beside the composer when replying would bring the chat under the opt-in.
    reply_covers: str | None


@dataclass(frozen=True)
class ListedConversation:
    conversation: Conversation
    status: ConversationStatus


def display_zone(user) -> tuple[tzinfo, bool]:
    """The zone dates are shown in, and whether it must be named (the site's fallback).

    ``User.time_zone`` (DESIGN §3) when the account has one; until then, and for an
    account without one, the site's zone, which the page names so nobody misreads it.
    """
    name = getattr(user, "time_zone", "") or ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name), False
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo(settings.TIME_ZONE), True


def _period(policy: Policy | None, *, opted_in: bool) -> str:
    # The periods the retention arithmetic uses (rules.retention_periods), in people's words.
    opt_in, opt_out = retention_periods(policy)
    return duration_words(opt_in if opted_in else opt_out)


def temporary_explained(policy: Policy | None) -> str:
    """The one-line explanation beside the "Temporary chat" control."""
    return TEMPORARY_EXPLAINED.format(period=_period(policy, opted_in=False))


class StatusWriter:
    """Writes status lines for one person at one instant (one page's worth)."""

    def __init__(self, *, user, policy: Policy | None, choice: str | None, now: datetime):
        self.policy = policy
        self.opted_in = policy is not None and choice == Choice.OPT_IN
        self.now = now
        self.zone, self.zone_named = display_zone(user)

    def status(self, conversation: Conversation) -> ConversationStatus:
        """``conversation`` must carry ``is_covered`` (``selectors.with_coverage``)."""
        if conversation.is_temporary:
            coverage = Coverage.TEMPORARY
            training = TEMPORARY.format(period=_period(self.policy, opted_in=False))
        elif conversation.is_covered:
            coverage, training = Coverage.COVERED, COVERED
        else:
            coverage, training = Coverage.NOT_COVERED, NOT_COVERED
        # Purge deletes once retain_until < now; at that instant it is no longer a future date.
        if conversation.retain_until <= self.now:
            kept_until, kept = None, DUE_FOR_DELETION
        else:
            kept_until = timezone.localtime(conversation.retain_until, self.zone)
            date = date_format(kept_until, "DATE_FORMAT")
            if self.zone_named:
                date = f"{date} ({kept_until.tzname()})"
            kept = KEPT_UNTIL.format(date=date)
        # Replying makes the activity fall in the present opt-in run (services): covered.
        reply_covers = None
        if coverage == Coverage.NOT_COVERED and self.opted_in:
            reply_covers = REPLY_COVERS.format(period=_period(self.policy, opted_in=True))
        return ConversationStatus(
            coverage=coverage,
            training=training,
            kept_until=kept_until,
            kept=kept,
            reply_covers=reply_covers,
        )

    def listed(self, conversations) -> list[ListedConversation]:
        return [ListedConversation(c, self.status(c)) for c in conversations]
