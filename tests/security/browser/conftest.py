"""Reuse the browser suite's fixtures (Debian's Chromium, sign-in, seeded designs)."""

import os
from pathlib import Path

import pytest

from tests.browser.conftest import (  # noqa: F401  (fixtures, used by name)
    AXE,
    CHROMIUM,
    browser_type_launch_args,
    designs,
    login,
)


def pytest_collection_modifyitems(config, items):
    # Same rule as tests/browser: skip with the reason unless CI demands the browser.
    if Path(CHROMIUM).exists() or os.environ.get("REQUIRE_BROWSER"):
        return
    reason = f"browser tests need {CHROMIUM} (apt-get install chromium)"
    for item in items:
        if "tests/security/browser" in str(item.fspath):
            item.add_marker(pytest.mark.skip(reason=reason))
