from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration_words(delta: timedelta | None) -> str:
    """A wait in plain words: ``timedelta(minutes=15)`` -> "15 minutes"."""
    if not delta:
        return ""
    minutes = max(1, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    parts = []
    for value, unit in ((days, "day"), (hours, "hour"), (minutes, "minute")):
        if value:
            parts.append(f"{value} {unit}{'' if value == 1 else 's'}")
    return " ".join(parts[:2])
