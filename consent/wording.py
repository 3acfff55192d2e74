"""Words for people: retention periods as a person says them ("5 years", "30 days").

One function, used wherever a retention period is shown to a person (the consent
dialog, privacy settings, chat status lines, receipts, admin); the receipt JSON keeps
the number of days for machines.
"""

from datetime import timedelta

DAYS_PER_YEAR = 365


def duration_words(duration: timedelta | int) -> str:
    """A whole number of years when the period is one ("5 years"), else days ("30 days")."""
    days = duration.days if isinstance(duration, timedelta) else int(duration)
    if days >= DAYS_PER_YEAR and days % DAYS_PER_YEAR == 0:
        years = days // DAYS_PER_YEAR
        return f"{years} year{'s' if years != 1 else ''}"
    return f"{days} day{'s' if days != 1 else ''}"
