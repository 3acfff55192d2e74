"""Words for people: retention periods as a person says them ("5 years", "30 days").

One function, used wherever a retention period is shown to a person (the consent
dialog, privacy settings, chat status lines, receipts, admin); the receipt JSON keeps
the number of days for machines.
"""

from datetime import timedelta

from django.utils.translation import ngettext

DAYS_PER_YEAR = 365


def duration_words(duration: timedelta | int) -> str:
    """A whole number of years when the period is one ("5 years"), else days ("30 days"),
    in the active language with its plural forms ("5 Jahre", "30日")."""
    days = duration.days if isinstance(duration, timedelta) else int(duration)
    if days >= DAYS_PER_YEAR and days % DAYS_PER_YEAR == 0:
        years = days // DAYS_PER_YEAR
        return ngettext("%(count)d year", "%(count)d years", years) % {"count": years}
    return ngettext("%(count)d day", "%(count)d days", days) % {"count": days}
