"""System checks: the evidence log cannot be switched off outside the benchmarks."""

from django.conf import settings
from django.core.checks import Error, register

BENCH_SETTINGS = "bench.settings"


@register()
def log_append_on(app_configs, **kwargs) -> list[Error]:
    if getattr(settings, "EVIDENCE_LOG_APPEND", True):
        return []
    if settings.SETTINGS_MODULE == BENCH_SETTINGS:
        return []
    return [
        Error(
            "EVIDENCE_LOG_APPEND is off: decisions would not enter the evidence log.",
            hint="Remove it: only bench/settings.py (bench/load.py's log-off side) may set it.",
            id="evidence.E001",
        )
    ]
