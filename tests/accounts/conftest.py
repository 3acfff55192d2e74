"""Accounts test helpers: a fresh rate-limit cache per test, links out of sent emails."""

import re

import pytest


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    # django-ratelimit counts in the default cache, which outlives a test's rollback.
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


def link_in(message, path_prefix: str) -> str:
    """The path of the first link under ``path_prefix`` in an email's plain-text body."""
    match = re.search(rf"https?://[^/\s]+({re.escape(path_prefix)}\S+)", message.body)
    assert match, message.body
    return match.group(1)


def html_part(message) -> str:
    [(content, mimetype)] = message.alternatives
    assert mimetype == "text/html"
    return content


def page_text(response) -> str:
    """The page without its per-response CSRF token, to compare two answers."""
    html = response.content.decode()
    html = re.sub(r'"X-CSRFToken": "[^"]+"', '"X-CSRFToken": ""', html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', 'name="csrfmiddlewaretoken"', html)


def statements(queries) -> list[str]:
    """The SQL a request ran, literals blanked, to compare the work of two requests."""
    return [re.sub(r"'[^']*'|\b\d+\b", "?", query["sql"]) for query in queries]
