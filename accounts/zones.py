"""Time zones a person may choose: IANA names that zoneinfo knows on this machine."""

import zoneinfo
from functools import cache

from django.core.exceptions import ValidationError

from . import errors


@cache
def time_zone_names() -> tuple[str, ...]:
    """Every IANA zone name, sorted (the sign-up and settings lists)."""
    return tuple(sorted(zoneinfo.available_timezones()))


def validate_time_zone(name: str) -> None:
    """Refuse anything zoneinfo cannot load (a typo, a path, an empty string)."""
    if name not in time_zone_names():
        raise ValidationError(errors.TIME_ZONE_UNKNOWN, code="time_zone_unknown")


def zone_of(user) -> zoneinfo.ZoneInfo | None:
    """``user``'s saved zone, or None when the row holds a name this machine cannot load
    (validated on the way in, but a zone can leave the tz database)."""
    try:
        return zoneinfo.ZoneInfo(user.time_zone) if user.time_zone else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None
