"""Number formats for the results pages: one place decides how a rate or a p-value reads."""

from django import template

register = template.Library()

MISSING = "—"


@register.filter
def pct(value, digits: int = 1) -> str:
    """0.1234 -> "12.3%"; missing values show as a dash."""
    if value is None or value == "":
        return MISSING
    return f"{float(value) * 100:.{int(digits)}f}%"


@register.filter
def signed_pct(value) -> str:
    """A lift: 0.052 -> "+5.2%"."""
    if value is None or value == "":
        return MISSING
    return f"{float(value) * 100:+.1f}%"


@register.filter
def pvalue(value) -> str:
    if value is None or value == "":
        return MISSING
    value = float(value)
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


@register.filter
def duration_seconds(value) -> str:
    """Seconds as a person reads them: "8.2 s", "2 min 5 s", "3 h 10 min"."""
    if value is None or value == "":
        return MISSING
    seconds = float(value)
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {int(seconds % 60)} s"
    return f"{int(seconds // 3600)} h {int(seconds % 3600 // 60)} min"
