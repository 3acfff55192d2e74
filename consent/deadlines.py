"""The decision deadline in a person's words: their time zone, a date, the time left.

Shown on the notice, the "Not now" confirmation, privacy settings, the lockout screen and
the reminder emails, so every surface says the same date. Pure: no queries.
"""

import zoneinfo
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from django.conf import settings
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, ngettext


def user_zone(user) -> tuple[tzinfo, bool]:
    """The zone to show ``user`` dates in, and whether it must be named (the site's zone).

    ``User.time_zone`` when the account has a valid one; else the site's zone, which the
    text names so nobody reads it as their own.
    """
    name = getattr(user, "time_zone", "") or ""
    if name:
        try:
            return zoneinfo.ZoneInfo(name), False
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            pass
    return zoneinfo.ZoneInfo(settings.TIME_ZONE), True


@dataclass(frozen=True)
class DeadlineText:
    """One deadline as a person reads it."""

    at: datetime  # in the person's zone
    date: str  # "4 December 2026", with the zone when it is the site's: "(UTC)"
    date_time: (
        str  # "4 December 2026, 17:00 UTC"; each language's own order ("2026年12月4日17:00 JST")
    )


def active_zone() -> tuple[tzinfo, bool]:
    """The zone this request renders in (``timezone.activate``), named when it is the
    site's own (nobody activated the person's zone)."""
    zone = timezone.get_current_timezone()
    return zone, timezone.get_current_timezone_name() == settings.TIME_ZONE


def deadline_text(deadline: datetime, *, user=None) -> DeadlineText:
    """``deadline`` in ``user``'s zone (``user_zone``), or without a user in the zone the
    request renders in (``active_zone``)."""
    zone, named = user_zone(user) if user is not None else active_zone()
    local = timezone.localtime(deadline, zone)
    # The active language's formats (config/formats for English, Django's for the rest).
    date = date_format(local, "DATE_FORMAT")
    return DeadlineText(
        at=local,
        date=f"{date} ({local.tzname()})" if named else date,
        date_time=f"{date_format(local, 'DATETIME_FORMAT')} {local.tzname()}",
    )


def time_left(deadline: datetime, *, now: datetime, user) -> str:
    """How long until ``deadline``, never rounded up: "in 4 days" at 4 days 23 hours.

    "today" and "tomorrow" are calendar days in the person's zone; beyond that, whole days
    left (24-hour periods), so the words never promise more time than there is.
    """
    left = deadline - now
    if left <= timedelta(0):
        return gettext("now")
    if left < timedelta(hours=1):
        return gettext("in less than an hour")
    zone, _ = user_zone(user)
    days_apart = (
        timezone.localtime(deadline, zone).date() - timezone.localtime(now, zone).date()
    ).days
    if days_apart == 0:
        return gettext("today")
    if days_apart == 1:
        return gettext("tomorrow")
    days = left.days
    return ngettext("in %(count)d day", "in %(count)d days", days) % {"count": days}


def next_ask_text(hidden_until: datetime, *, user) -> str:
    """When a deferred notice comes back: "4 December 2026, 17:00 UTC"."""
    return deadline_text(hidden_until, user=user).date_time
