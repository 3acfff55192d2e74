"""Production settings pass Django's deployment checklist and keep cookies and transport safe.

Each test starts a fresh interpreter: production settings refuse to load without a real
SECRET_KEY and ALLOWED_HOSTS, and must not leak into the test process.
"""

import base64
import json
import os
import secrets
import subprocess
import sys

from django.conf import settings

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "chat.example.com",
    # The embedded default database: the checks need no server.
    "DATABASE_URL": "sqlite:///:memory:",
    # Production shares one cache (the API's rate limit) and the broker; never contacted here.
    "REDIS_URL": "redis://127.0.0.1:6379/0",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
    # Receipts name the data controller and link to the site (required in production).
    "SITE_URL": "https://chat.example.com",
    "CONSENT_CONTROLLER_NAME": "Example Chat Ltd",
    "CONSENT_CONTROLLER_ADDRESS": "1 Example Street, Dublin, Ireland",
    "CONSENT_CONTROLLER_CONTACT": "privacy@chat.example.com",
    # Tree heads are signed with a key from the environment (evidence/keys.py).
    "EVIDENCE_SIGNING_KEY": base64.b64encode(secrets.token_bytes(32)).decode(),
}


def run_in_production(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, **PRODUCTION_ENV}
    # Set by the test settings for Playwright's live server; never in a deployment.
    for name in ("DJANGO_ALLOW_ASYNC_UNSAFE", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS"):
        env.pop(name, None)
    return subprocess.run(
        [sys.executable, *args],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_reports_no_warnings():
    result = run_in_production("manage.py", "check", "--deploy", "--fail-level", "WARNING")

    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout


SETTINGS_DUMP = """
import json, django
django.setup()
from django.conf import settings as s
print(json.dumps({name: getattr(s, name) for name in [
    "DEBUG", "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SESSION_COOKIE_SECURE", "SESSION_COOKIE_HTTPONLY", "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SECURE", "CSRF_COOKIE_SAMESITE", "X_FRAME_OPTIONS",
]}))
"""


def test_production_sends_cookies_over_https_only_and_asks_for_hsts():
    result = run_in_production("-c", SETTINGS_DUMP)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)

    assert values["DEBUG"] is False
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SECURE_HSTS_SECONDS"] >= 60 * 60 * 24 * 365
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SESSION_COOKIE_HTTPONLY"] is True
    assert values["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert values["X_FRAME_OPTIONS"] == "DENY"


def test_production_refuses_to_start_with_the_development_secret_key():
    result = run_in_production(
        "-c",
        "import os; os.environ['SECRET_KEY'] = 'dev-insecure-x'; import django; django.setup()",
    )

    assert result.returncode != 0
    assert "Set SECRET_KEY" in result.stderr
