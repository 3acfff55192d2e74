"""Settings for benchmarks: production-like (DEBUG off, persistent connections), plain HTTP
on loopback, and BENCH_GATE=off to take the consent gate out for the baseline."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import MIDDLEWARE

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING = {"version": 1, "disable_existing_loggers": True, "root": {"level": "ERROR", "handlers": []}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("BENCH_GATE", "on") == "off":
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "consent.middleware.ConsentGateMiddleware"]
