"""System checks for the API's operating assumptions."""

from django.conf import settings
from django.core import checks

LOCAL_CACHES = {
    "django.core.cache.backends.locmem.LocMemCache",
    "django.core.cache.backends.dummy.DummyCache",
}


@checks.register(checks.Tags.caches, deploy=True)
def rate_limit_cache_is_shared(app_configs, **kwargs):
    """With a per-process cache every web process counts separately: N processes, N x the limit."""
    backend = settings.CACHES.get("default", {}).get("BACKEND")
    if backend in LOCAL_CACHES:
        return [
            checks.Warning(
                "The API rate limit is counted per process: the default cache is local memory.",
                hint="Set REDIS_URL (or CACHE_URL) so every web process shares one cache.",
                id="api.W001",
            )
        ]
    return []
