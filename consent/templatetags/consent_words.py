"""``{{ period|duration_words }}``: a retention period in words (consent.wording)."""

from django import template

from consent.wording import duration_words as _duration_words

register = template.Library()


@register.filter
def duration_words(value) -> str:
    return "" if value in (None, "") else _duration_words(value)
