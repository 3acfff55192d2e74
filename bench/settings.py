"""Settings for benchmarks: production-like (DEBUG off, persistent connections), plain HTTP
on loopback, and BENCH_GATE=off to take the consent gate out for the baseline."""

import os

from config.settings.base import *  # noqa: F403
from config.settings.base import BASE_DIR, MIDDLEWARE, TEMPLATES

DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": True,
    "root": {"level": "ERROR", "handlers": []},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("BENCH_GATE", "on") == "off":
    MIDDLEWARE = [m for m in MIDDLEWARE if m != "consent.middleware.ConsentGateMiddleware"]
# bench/load.py's "log" pair: decisions without their evidence-log INSERT, to price it.
# Allowed here only (evidence.checks refuses it under any other settings module).
EVIDENCE_LOG_APPEND = os.environ.get("BENCH_EVIDENCE_LOG", "on") != "off"
# The product's URLs plus /bench/minimal/ and /bench/insert/, the baselines of bench/load.py.
ROOT_URLCONF = "bench.urls"
TEMPLATES = [{**TEMPLATES[0], "DIRS": [*TEMPLATES[0]["DIRS"], BASE_DIR / "bench" / "templates"]}]
# bench/faults.py points the safety-classifier hook at a stand-in, so chat posts enqueue work.
SAFETY_CLASSIFIER = os.environ.get("BENCH_SAFETY_CLASSIFIER") or None
# bench/faults.py shortens the lease after which a lost shard task is sent again.
TRAINING_SHARD_LEASE_SECONDS = int(os.environ.get("TRAINING_SHARD_LEASE_SECONDS", 2 * 60 * 60))
TRAINING_SHARD_SIZE = int(os.environ.get("TRAINING_SHARD_SIZE", 10_000))
