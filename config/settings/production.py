"""Production: refuses to start without a real secret and host list; HTTPS only."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import EVIDENCE_SIGNING_KEY, EVIDENCE_SIGNING_KEY_FILE, env

DEBUG = False
SECRET_KEY = env("SECRET_KEY", default="")
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=[])
if not SECRET_KEY or SECRET_KEY.startswith("dev-insecure"):
    raise ImproperlyConfigured("Set SECRET_KEY to a long random value before starting production.")
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("Set ALLOWED_HOSTS (comma-separated host names) for production.")
# Tree heads are signed with a key from a secret store, never one generated on the server.
EVIDENCE_SIGNING_KEY_AUTOGENERATE = False
if not (EVIDENCE_SIGNING_KEY or EVIDENCE_SIGNING_KEY_FILE):
    raise ImproperlyConfigured(
        "Set EVIDENCE_SIGNING_KEY_FILE (or EVIDENCE_SIGNING_KEY) to the Ed25519 key that signs "
        "evidence tree heads; see README 'Proving consent'."
    )

# Receipts name the controller and link back to the site: no demo values in production.
SITE_URL = env("SITE_URL", default="")
CONSENT_CONTROLLER_NAME = env("CONSENT_CONTROLLER_NAME", default="")
CONSENT_CONTROLLER_ADDRESS = env("CONSENT_CONTROLLER_ADDRESS", default="")
CONSENT_CONTROLLER_CONTACT = env("CONSENT_CONTROLLER_CONTACT", default="")
_missing = [
    name
    for name in (
        "SITE_URL",
        "CONSENT_CONTROLLER_NAME",
        "CONSENT_CONTROLLER_ADDRESS",
        "CONSENT_CONTROLLER_CONTACT",
    )
    if not globals()[name].strip()
]
if _missing:
    raise ImproperlyConfigured(
        f"Set {', '.join(_missing)} before starting production: every consent receipt names "
        "the data controller (name, postal address, privacy contact) and links to SITE_URL."
    )
if not SITE_URL.startswith("https://"):
    raise ImproperlyConfigured("Set SITE_URL to the site's https:// address (no trailing slash).")

SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
