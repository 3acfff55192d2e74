"""An analyst reads the demo experiment's verdicts at desktop and phone width."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Permission
from django.utils import timezone
from playwright.sync_api import expect

from consent.models import Policy
from experiments.demo import seed_experiment_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (390, 844)])
def test_analyst_reads_the_verdict_that_refuses_the_default_on_design(
    page, live_server, login, django_user_model, axe_violations, width, height
):
    now = timezone.now()
    Policy.objects.create(
        version="2026-09",
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=now - timedelta(days=30),
        decision_deadline=now + timedelta(days=30),
    )
    experiment = seed_experiment_demo()
    analyst = django_user_model.objects.create_user(
        "analyst@example.com", "correct-horse-battery", is_staff=True
    )
    analyst.user_permissions.add(Permission.objects.get(codename="view_results"))
    page.set_viewport_size({"width": width, "height": height})
    login(analyst)

    page.goto(f"{live_server.url}/experiments/{experiment.key}/")

    verdicts = page.get_by_role("table", name="Verdict per arm for phase 1")
    row = verdicts.get_by_role("row").filter(has_text="accept_toggle_on")
    expect(row).to_contain_text("Do not ship")
    expect(row).to_contain_text("7-day reversal rate")
    expect(page.get_by_text("Breakdowns multiply false positives")).to_be_visible()
    expect(page.get_by_role("heading", name="Plan and progress")).to_be_visible()
    assert axe_violations(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"experiment-verdicts-{width}.png"), full_page=True)

    row.get_by_role("link", name="Read-only rendering").click()

    expect(page.get_by_role("heading", name="Design “accept_toggle_on”")).to_be_visible()
    expect(page.get_by_role("switch")).to_be_checked()
    expect(page.get_by_role("switch")).to_be_disabled()
