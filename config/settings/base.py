"""Settings shared by every environment; everything that differs comes from the environment.

The embedded default (no environment at all) is SQLite plus kombu's filesystem
broker under ``var/``, so one command on a fresh machine runs the whole product.
"""

from pathlib import Path

import environ
from celery.schedules import crontab

BASE_DIR = Path(__file__).resolve().parent.parent.parent
VAR_DIR = BASE_DIR / "var"
VAR_DIR.mkdir(exist_ok=True)

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

SECRET_KEY = env("SECRET_KEY", default="dev-insecure-key-change-me-for-anything-real")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "django_celery_beat",
    "axes",
    "csp",
    "accounts",
    "consent",
    "conversations",
    "retention",
    "training",
    "experiments",
    # django-ninja's own static Swagger UI (otherwise its docs page loads it from a CDN).
    "ninja",
    "api",
    "evidence",
    "webhooks",
    # Demo data across every app; nothing imports it (docs/architecture.md).
    "demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    # Before anything reads request.POST (CSRF does): see its docstring.
    "config.middleware.RejectNonUtf8FormPosts",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The signed-in person's saved language and time zone, before the gate renders or
    # redirects anything (LocaleMiddleware above has already negotiated the rest).
    "accounts.middleware.UserLocaleMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "consent.middleware.ConsentGateMiddleware",
    # Axes last: it inspects the outcome of authentication for the lockout.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "consent.context_processors.consent_notice",
            ],
        },
    }
]

# Database: SQLite under var/ by default; DATABASE_URL for PostgreSQL in production and CI.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A fresh PostgreSQL connection per request costs ~5x throughput: keep them,
    # and check them before use so a restarted server does not break requests.
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Server-side parameters: values travel apart from the SQL. Django leaves psycopg's own
    # preparing off (prepare_threshold=None); the consent decision's statements and the
    # serving's INSERT are planned once per connection by config.statements instead. Both
    # need a connection to stay one server session: behind PgBouncer in transaction mode,
    # DATABASE_SERVER_SIDE_BINDING=false turns them off.
    DATABASES["default"].setdefault("OPTIONS", {})["server_side_binding"] = env.bool(
        "DATABASE_SERVER_SIDE_BINDING", default=True
    )
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            # WAL and a busy timeout let the web process, worker and beat share the file.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
        }
    )

# Cache: Redis when CACHE_URL or REDIS_URL is set (shared by every web process, so the API's
# per-token rate limit holds across them); per-process local memory otherwise.
CACHES = {
    "default": env.cache("CACHE_URL", default=env("REDIS_URL", default="locmemcache://")),
    # Rendered template fragments keyed by everything they show (the consent dialog's
    # copy): process-local, since a round trip to Redis would cost what it saves, and kept
    # unpickled (config.cache: the values are immutable).
    "fragments": {
        "BACKEND": "config.cache.ImmutableLocMemCache",
        "LOCATION": "fragments",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": 500},
    },
}
# Requests per token per window for the consent API (django-ratelimit syntax, e.g. 600/m).
API_RATE_LIMIT = env("API_RATE_LIMIT", default="600/m")
# Failed token checks per client address per window; past it the address gets 429.
API_TOKEN_FAILURE_RATE = env("API_TOKEN_FAILURE_RATE", default="20/m")

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "consent.backends.ConsentStandingBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "conversations:list"
LOGOUT_REDIRECT_URL = "accounts:login"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Failed logins: django-axes locks the email+IP pair after AXES_FAILURE_LIMIT tries.
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.25)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Count failures under the normalised email, so no capitalisation gets fresh guesses.
AXES_USERNAME_CALLABLE = "accounts.normalization.axes_username"
# Axes' log lines name the client; keep raw IPs and login names out of them (the
# AccessAttempt rows in admin still hold what a lockout needs).
AXES_VERBOSE = False
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "user_agent"]

LANGUAGE_CODE = "en"
# The languages the whole product speaks (locale/ holds every one's catalog); a person's
# saved language (accounts.User.language) wins over Accept-Language (accounts.middleware).
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("ja", "日本語"),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# config/formats/<lang>/formats.py overrides Django's formats where the product's own
# differ (English dates as "4 December 2026, 17:00"); other languages use Django's.
FORMAT_MODULE_PATH = ["config.formats"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "staticfiles"
STATIC_ROOT.mkdir(exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Signed tree heads, outside the database (evidence.services). In production point it at
    # a bucket the app can write but never overwrite or delete, e.g. django-storages' S3
    # backend on a bucket with S3 Object Lock in compliance mode.
    # Training snapshots (TRAINING_EXPORT_STORAGE): shard files and manifests. In production
    # an S3-compatible bucket via django-storages' storages.backends.s3.S3Storage.
    "training_exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("TRAINING_EXPORT_DIR", default=str(VAR_DIR / "exports")),
        },
    },
    "evidence_sink": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": env("EVIDENCE_SINK_DIR", default=str(VAR_DIR / "checkpoints")),
            "file_permissions_mode": 0o444,
        },
    },
}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp 4): scripts, styles, images and fetches only from our own
# origin, never inline, so injected markup cannot run or restyle anything. Templates carry no
# <script> bodies, style= or on*= attributes (static/js does the enhancing) and htmx's injected
# indicator style is switched off in base.html. frame-ancestors 'none' is X-Frame-Options: DENY
# for browsers that prefer CSP: nobody can frame the consent screens to trick a click.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024

EMAIL_BACKEND = env("EMAIL_BACKEND", default="django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env("EMAIL_HOST", default="localhost")
EMAIL_PORT = env.int("EMAIL_PORT", default=25)
EMAIL_HOST_USER = env("EMAIL_HOST_USER", default="")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD", default="")
EMAIL_USE_TLS = env.bool("EMAIL_USE_TLS", default=False)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", default="privacy@consentgate.local")

# The assistant's reply; the default is an offline demo that never calls a network.
CHAT_RESPONDER = env("CHAT_RESPONDER", default="conversations.responders.DemoResponder")
CHAT_MESSAGE_MAX_LENGTH = 32_000

# The product's name and public address, for emails and anything else read off the site
# (absolute links in reminders). No trailing slash.
PRODUCT_NAME = env("PRODUCT_NAME", default="Chat")
SITE_URL = env("SITE_URL", default="http://127.0.0.1:8000")

# The data controller named on every consent receipt (GDPR Art. 13(1)(a)): who decides
# what happens to the chats, where they are, how to reach them. Required in production.
CONSENT_CONTROLLER_NAME = env("CONSENT_CONTROLLER_NAME", default="Example Chat Ltd (demo)")
CONSENT_CONTROLLER_ADDRESS = env(
    "CONSENT_CONTROLLER_ADDRESS", default="1 Example Street, Dublin, Ireland (demo)"
)
CONSENT_CONTROLLER_CONTACT = env("CONSENT_CONTROLLER_CONTACT", default="privacy@example.com")
# Also on every receipt, as ISO/IEC TS 27560 asks (consent.receipts): the controller's
# registered identifier (company number), the law it answers to (ISO 3166 code, or EU),
# where chats are stored, and who besides the controller receives chats used for training
# (comma-separated names of processors or third parties; empty: nobody).
CONSENT_CONTROLLER_IDENTIFIER = env(
    "CONSENT_CONTROLLER_IDENTIFIER", default="Companies Registration Office 000000 (demo)"
)
CONSENT_CONTROLLER_JURISDICTION = env("CONSENT_CONTROLLER_JURISDICTION", default="IE")
CONSENT_STORAGE_LOCATION = env("CONSENT_STORAGE_LOCATION", default="EU")
CONSENT_TRAINING_RECIPIENTS = env.list("CONSENT_TRAINING_RECIPIENTS", default=[])

# Consent: which modal variant is shown when no experiment picks one (editable in admin too).
CONSENT_DEFAULT_VARIANT_KEY = env("CONSENT_DEFAULT_VARIANT_KEY", default="two_buttons")
# A deferred notice stays hidden until the next login or this long, whichever is later.
CONSENT_NOTICE_DEFER_HOURS = 24
# A rendered decision form is accepted for this long after it was shown.
CONSENT_FORM_MAX_AGE_SECONDS = 60 * 60 * 24
# Each rendering of the decision screen is kept (consent.ServedNotice). On PostgreSQL a
# thread of each web process writes them together this many seconds later at most, off the
# request's path; the answer inserts its serving itself if it comes first. A process that
# dies unexpectedly loses its last fraction of a second of renderings nobody answered.
# 0 writes each one during its request (SQLite's default: one writer at a time).
CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = env.float(
    "CONSENT_SERVINGS_WRITE_BEHIND_SECONDS",
    default=0.25 if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql" else 0,
)
# Safety-flagged conversations are kept this much longer than their consent-based retention.
SAFETY_RETENTION_EXTENSION_DAYS = env.int("SAFETY_RETENTION_EXTENSION_DAYS", default=730)
RETENTION_PURGE_BATCH_SIZE = env.int("RETENTION_PURGE_BATCH_SIZE", default=5000)
RETENTION_PURGE_MAX_BATCHES = env.int("RETENTION_PURGE_MAX_BATCHES", default=400)
# Scale-out purge: plan_purge_chunks splits the due id space into ranges this wide.
RETENTION_PURGE_CHUNK_SIZE = env.int("RETENTION_PURGE_CHUNK_SIZE", default=50_000)
# Dotted path to classify(history) -> bool; None turns the safety classifier off.
SAFETY_CLASSIFIER = env("SAFETY_CLASSIFIER", default=None)
# Key for the pseudonymous user ids in training exports (falls back to SECRET_KEY).
TRAINING_PSEUDONYM_KEY = env("TRAINING_PSEUDONYM_KEY", default="")
TRAINING_EXPORT_DIR = env("TRAINING_EXPORT_DIR", default=str(VAR_DIR / "exports"))
# The STORAGES alias snapshot shards and manifests are written to (training.storage).
TRAINING_EXPORT_STORAGE = env("TRAINING_EXPORT_STORAGE", default="training_exports")
# Conversation ids per export shard (one Celery task, one file each).
TRAINING_SHARD_SIZE = env.int("TRAINING_SHARD_SIZE", default=10_000)
# A shard task not started, or not finished, this long after it was sent is sent again
# (a broker restart, a killed worker); longer than the shard task's time limit.
TRAINING_SHARD_LEASE_SECONDS = env.int("TRAINING_SHARD_LEASE_SECONDS", default=2 * 60 * 60)

# Celery: kombu's filesystem transport under var/ unless CELERY_BROKER_URL points at Redis.
# The host is named only so kombu does not warn "No hostname was supplied" in every log.
CELERY_BROKER_URL = env("CELERY_BROKER_URL", default="filesystem://localhost/")
_broker_dir = VAR_DIR / "broker"
if CELERY_BROKER_URL.startswith("filesystem://"):
    for sub in ("in", "processed", "control"):
        (_broker_dir / sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        # kombu's default is ./control, relative to wherever the process started.
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 60 * 30
CELERY_TASK_SOFT_TIME_LIMIT = 60 * 25
CELERY_TIMEZONE = TIME_ZONE
# Evidence log (evidence app, DESIGN §4 rule 7): the STORAGES alias heads are published to,
# the Ed25519 signing key (never in the database; see evidence/keys.py), older public keys
# still trusted after a rotation (base64, raw 32 bytes), and the checkpoint cadence.
EVIDENCE_SINK_STORAGE = env("EVIDENCE_SINK_STORAGE", default="evidence_sink")
EVIDENCE_SIGNING_KEY = env("EVIDENCE_SIGNING_KEY", default="")
EVIDENCE_SIGNING_KEY_FILE = env("EVIDENCE_SIGNING_KEY_FILE", default="")
EVIDENCE_SIGNING_KEY_AUTOGENERATE = env.bool("EVIDENCE_SIGNING_KEY_AUTOGENERATE", default=True)
EVIDENCE_GENERATED_KEY_FILE = VAR_DIR / "evidence-signing-key.pem"
EVIDENCE_TRUSTED_PUBLIC_KEYS = env.list("EVIDENCE_TRUSTED_PUBLIC_KEYS", default=[])
EVIDENCE_CHECKPOINT_MINUTES = env.int("EVIDENCE_CHECKPOINT_MINUTES", default=10)
EVIDENCE_SEQUENCE_BATCH_SIZE = env.int("EVIDENCE_SEQUENCE_BATCH_SIZE", default=10_000)
EVIDENCE_SEQUENCE_MAX_BATCHES = env.int("EVIDENCE_SEQUENCE_MAX_BATCHES", default=100)

CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)

# The one reviewed beat schedule; `sync_beat_schedule` copies it into django-celery-beat's
# tables so admins can pause or retime an entry without a deploy.
CELERY_BEAT_SCHEDULE = {
    # Delete conversations whose retain_until has passed (DESIGN §4 rule 3).
    "retention-purge-hourly": {
        "task": "retention.tasks.purge_expired_conversations",
        "schedule": crontab(minute=7),
    },
    # Classify conversations whose latest activity the safety classifier has not read.
    "retention-safety-sweep": {
        "task": "conversations.tasks.sweep_safety_checks",
        "schedule": crontab(minute="*/15"),
    },
    # Email undecided users 7 days and 1 day before the decision deadline.
    "consent-deadline-reminders": {
        "task": "consent.tasks.send_deadline_reminders",
        "schedule": crontab(minute=15),
    },
    # Note when each still-undecided user became locked out, for admin and metrics.
    "consent-lockout-bookkeeping": {
        "task": "consent.tasks.record_lockouts",
        "schedule": crontab(minute="*/10"),
    },
    # Finish training exports whose shards are all written; resend shards whose task was lost.
    "training-exports-advance": {
        "task": "training.tasks.advance_training_exports",
        "schedule": crontab(minute="*"),
    },
    # Recompute every user's consent hash chain and log any break.
    "consent-chain-verification-daily": {
        "task": "consent.tasks.verify_consent_chains",
        "schedule": crontab(hour=3, minute=30),
    },
    # Sequence new evidence log entries and sign a tree head into the external sink.
    "evidence-checkpoint": {
        "task": "evidence.tasks.write_checkpoint",
        "schedule": crontab(minute=f"*/{EVIDENCE_CHECKPOINT_MINUTES}"),
    },
    # Check the database against the signed heads, the chains and the state rows.
    "evidence-verification-daily": {
        "task": "consent.tasks.verify_evidence",
        "schedule": crontab(hour=4, minute=10),
    },
    # Relay outbox events to webhook subscribers and retry due deliveries: a broker outage
    # or a lost enqueue delays delivery by at most this minute, never loses it.
    "webhooks-sweep": {
        "task": "webhooks.tasks.webhooks_sweep",
        "schedule": crontab(minute="*"),
    },
}

# Webhooks (webhooks app, Standard Webhooks): the key that encrypts the subscribers' signing
# secrets (Fernet, derived from SECRET_KEY when empty), the key of the users' pseudonyms in
# events, retries (exponential backoff with jitter, capped), the dead-letter window, how long
# a subscriber may fail before it is paused, and whether endpoints may resolve to private,
# loopback or link-local addresses (only for a local receiver: production keeps it False).
WEBHOOKS_SECRET_KEY = env("WEBHOOKS_SECRET_KEY", default="")
WEBHOOKS_PSEUDONYM_KEY = env("WEBHOOKS_PSEUDONYM_KEY", default="")
WEBHOOKS_RETRY_BASE_SECONDS = env.float("WEBHOOKS_RETRY_BASE_SECONDS", default=5)
WEBHOOKS_RETRY_MAX_SECONDS = env.float("WEBHOOKS_RETRY_MAX_SECONDS", default=3600)
WEBHOOKS_DEAD_LETTER_AFTER_HOURS = env.float("WEBHOOKS_DEAD_LETTER_AFTER_HOURS", default=72)
WEBHOOKS_PAUSE_AFTER_HOURS = env.float("WEBHOOKS_PAUSE_AFTER_HOURS", default=72)
WEBHOOKS_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOKS_ALLOW_PRIVATE_ADDRESSES", default=False)
WEBHOOKS_CONNECT_TIMEOUT_SECONDS = env.float("WEBHOOKS_CONNECT_TIMEOUT_SECONDS", default=3)
WEBHOOKS_READ_TIMEOUT_SECONDS = env.float("WEBHOOKS_READ_TIMEOUT_SECONDS", default=5)
# A worker holds the deliveries it took for this long; a killed worker's run out then.
WEBHOOKS_LEASE_SECONDS = env.int("WEBHOOKS_LEASE_SECONDS", default=300)
WEBHOOKS_BATCH_SIZE = env.int("WEBHOOKS_BATCH_SIZE", default=200)
# Users' lanes sent at once per worker process (threads: the work is waiting on the network).
WEBHOOKS_DELIVERY_THREADS = env.int("WEBHOOKS_DELIVERY_THREADS", default=8)
# Each process asks the workers to deliver at most twice per window, however many changes
# it commits (config.broker.CoalescedEnqueue); 0 asks after every change.
WEBHOOKS_DISPATCH_WINDOW_SECONDS = env.float("WEBHOOKS_DISPATCH_WINDOW_SECONDS", default=1.0)

# LOG_FORMAT=json writes one JSON object per line (config.logging.JsonFormatter) for a log
# pipeline. Either way the handler scrubs IP and email addresses from every message: the
# app logs ids and outcomes only, and this catches what third-party code writes.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
        "json": {"()": "config.logging.JsonFormatter"},
    },
    "filters": {"scrub_personal_data": {"()": "config.logging.ScrubPersonalData"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": env("LOG_FORMAT", default="plain"),
            "filters": ["scrub_personal_data"],
        }
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", default="INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # Axes logs every successful login at INFO; failures and lockouts stay visible.
        "axes": {"level": "WARNING"},
    },
}
