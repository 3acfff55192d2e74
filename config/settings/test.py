"""Test settings: fast hashing, in-memory email, Celery eager unless a test opts out."""

import os

from .base import *  # noqa: F403
from .base import DATABASES, VAR_DIR

DEBUG = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    # One directory per test process; evidence tests give each test its own.
    "evidence_sink": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(VAR_DIR / f"test-checkpoints-{os.getpid()}")},
    },
}
# A fixed test key (32 bytes, base64): never generate one under var/ during a test run.
EVIDENCE_SIGNING_KEY = "dGVzdC1ldmlkZW5jZS1zaWduaW5nLWtleS0zMmJ5dGU="
EVIDENCE_SIGNING_KEY_AUTOGENERATE = False
# pytest-django's `settings` fixture does not reach Celery's config: set eager here.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
# Playwright drives a live server from a thread with a running event loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
AXES_ENABLED = True
# Persistent connections only confuse the per-test transaction handling.
DATABASES["default"]["CONN_MAX_AGE"] = 0
# Same engines, plus a flush that lifts the append-only triggers between transactional tests.
DATABASES["default"]["ENGINE"] = {
    "django.db.backends.postgresql": "config.test_db.postgresql",
    "django.db.backends.sqlite3": "config.test_db.sqlite3",
}[DATABASES["default"]["ENGINE"]]
if DATABASES["default"]["ENGINE"] == "config.test_db.sqlite3":
    # A file, not memory: the real Celery worker test runs a second process against it.
    # One file per test process, so parallel runs on one machine never share it.
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-db-{os.getpid()}.sqlite3")}
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"null": {"class": "logging.NullHandler"}},
    "root": {"handlers": ["null"], "level": "WARNING"},
}
WHITENOISE_AUTOREFRESH = True
# Tests deliver webhooks to a receiver on 127.0.0.1; the SSRF tests turn this off.
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = True
# Eager Celery runs a dispatch at once, countdown or not: every change asks for its own
# (tests/test_config_plumbing.py tests the window itself).
WEBHOOKS_DISPATCH_WINDOW_SECONDS = 0
# Servings are written during their request, inside the test's transaction; the writer's
# own tests (tests/consent/test_servings_behind.py) turn it on.
CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = 0
# Process memory, never a Redis that REDIS_URL/CACHE_URL may point at: tests clear the cache.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": {
        "BACKEND": "config.cache.ImmutableLocMemCache",
        "LOCATION": "fragments",
    },
}
