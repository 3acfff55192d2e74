"""Playwright on Debian's Chromium (pytest-playwright cannot download a browser here)."""

import os
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
AXE = Path(settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"


def pytest_collection_modifyitems(config, items):
    missing = [str(p) for p in (Path(CHROMIUM), AXE) if not p.exists()]
    if not missing:
        return
    reason = f"browser tests need {', '.join(missing)} (apt-get install chromium; npm ci)"
    if os.environ.get("REQUIRE_BROWSER"):
        return  # CI: let them run and fail loudly rather than skip quietly.
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture
def login(live_server, context):
    """Sign the browser in as a user without typing (the login form has its own tests)."""

    def sign_in(user):
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        context.add_cookies(
            [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": live_server.url}]
        )

    return sign_in


@pytest.fixture
def axe_violations():
    """Run axe-core on the page and return its violations (WCAG 2.x A and AA rules)."""

    def run(page) -> list[dict]:
        # Evaluated through DevTools, not added as an inline <script>: the page's CSP
        # (no 'unsafe-inline') would block that, as it should.
        page.evaluate(AXE.read_text())
        result = page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag',
                    values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }"""
        )
        return result

    return run


@pytest.fixture(autouse=True)
def designs(transactional_db):
    """Transactional tests flush every table, including rows a data migration seeded."""
    import importlib

    from django.apps import apps

    from consent.services import variant_make_default

    seeded = importlib.import_module("consent.migrations.0004_seed_modal_variants")
    ModalVariant = apps.get_model("consent", "ModalVariant")
    for fields in seeded.VARIANTS:
        # is_default became DesignDefault rows (migrations 0008-0010): set below, as 0009 did.
        fields = {k: v for k, v in fields.items() if k != "is_default"}
        defaults = {"body": seeded.BODY, "learn_more": seeded.LEARN_MORE, "surfaces": [], **fields}
        ModalVariant.objects.update_or_create(key=defaults.pop("key"), defaults=defaults)
    variant_make_default(ModalVariant.objects.get(key="two_buttons"))
