from datetime import timedelta

from django import template
from django.utils.translation import gettext, ngettext

register = template.Library()

UNITS = (
    (lambda n: ngettext("%(count)d day", "%(count)d days", n)),
    (lambda n: ngettext("%(count)d hour", "%(count)d hours", n)),
    (lambda n: ngettext("%(count)d minute", "%(count)d minutes", n)),
)


@register.filter
def duration_words(delta: timedelta | None) -> str:
    """A wait in plain words: ``timedelta(minutes=15)`` -> "15 minutes"."""
    if not delta:
        return ""
    minutes = max(1, round(delta.total_seconds() / 60))
    days, rest = divmod(minutes, 60 * 24)
    hours, minutes = divmod(rest, 60)
    parts = [
        words(value) % {"count": value}
        for value, words in zip((days, hours, minutes), UNITS, strict=True)
        if value
    ]
    # Translators: joins two parts of a wait, as in "1 hour 5 minutes".
    return (
        gettext("%(first)s %(second)s") % {"first": parts[0], "second": parts[1]}
        if len(parts) > 1
        else parts[0]
    )
