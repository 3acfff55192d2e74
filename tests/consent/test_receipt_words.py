"""Receipts and admin speak to people: periods in words, no vocabulary jargon, the controller
named from settings, absolute links; production refuses to start without the controller."""

import os
import subprocess
import sys
from datetime import timedelta

import pytest
from django.urls import reverse

from consent.models import Policy
from consent.wording import duration_words
from tests.admin_inlines import NO_TRANSLATIONS
from tests.security.test_production_settings import PRODUCTION_ENV

from .conftest import form_token

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("period", "words"),
    [
        (timedelta(days=1825), "5 years"),
        (timedelta(days=365), "1 year"),
        (timedelta(days=30), "30 days"),
        (timedelta(days=1), "1 day"),
        (timedelta(days=400), "400 days"),
        (1825, "5 years"),
    ],
)
def test_retention_periods_read_as_a_person_says_them(period, words):
    assert duration_words(period) == words


def decide(client, user, decision: str):
    client.force_login(user)
    token = form_token(client)
    client.post(reverse("consent:decide"), {"form_token": token, "decision": decision})
    return user.consent_records.get()


def test_the_receipt_page_says_5_years_names_the_controller_and_shows_no_dpv_terms(
    client, new_user, use_variant, settings
):
    settings.CONSENT_CONTROLLER_NAME = "Example Chat Ltd"
    settings.CONSENT_CONTROLLER_ADDRESS = "1 Example Street, Dublin"
    settings.CONSENT_CONTROLLER_CONTACT = "privacy@chat.example.com"
    use_variant("two_buttons")
    record = decide(client, new_user, "opt_in")

    page = client.get(reverse("consent:receipt", args=[record.pk])).content.decode()

    people_part = page.split("<details>")[0]  # the JSON below keeps the DPV terms
    assert "5 years after your last message" in people_part
    assert "1825" not in people_part
    assert "dpv:" not in people_part
    assert "You allowed it" in people_part
    assert "Example Chat Ltd, 1 Example Street, Dublin" in people_part
    assert 'href="mailto:privacy@chat.example.com"' in people_part


def test_the_receipt_json_links_absolutely_and_keeps_the_machine_terms(
    client, new_user, use_variant, settings
):
    settings.SITE_URL = "https://chat.example.com"
    use_variant("two_buttons")
    record = decide(client, new_user, "opt_out")

    receipt = client.get(reverse("consent:receipt_json", args=[record.pk])).json()

    assert receipt["notice"]["policy_url"].startswith("https://chat.example.com/")
    assert receipt["receipt_url"] == f"https://chat.example.com/consent/receipts/{record.pk}/"
    assert receipt["retention_period_days"] == 30
    assert receipt["state"] == "dpv:ConsentRefused"
    assert {"name", "address", "contact"} <= set(receipt["controller"])


def test_admin_edits_retention_in_days_and_lists_it_in_words(admin_client, policy):
    url = reverse("admin:consent_policy_change", args=[policy.pk])
    form = admin_client.get(url).content.decode()
    assert 'name="opt_in_retention" value="1825"' in form

    data = {
        "version": policy.version,
        "title": policy.title,
        "summary": policy.summary,
        "body": policy.body,
        "effective_at_0": policy.effective_at.strftime("%Y-%m-%d"),
        "effective_at_1": policy.effective_at.strftime("%H:%M:%S"),
        "decision_deadline_0": policy.decision_deadline.strftime("%Y-%m-%d"),
        "decision_deadline_1": policy.decision_deadline.strftime("%H:%M:%S"),
        "opt_in_retention": "730",
        "opt_out_retention": "14",
        "change_kind": "material",
        **NO_TRANSLATIONS,
    }
    response = admin_client.post(url, data)

    assert response.status_code == 302, response.content.decode()[:2000]
    policy.refresh_from_db()
    assert policy.opt_in_retention == timedelta(days=730)
    assert policy.opt_out_retention == timedelta(days=14)
    listing = admin_client.get(reverse("admin:consent_policy_changelist")).content.decode()
    assert "2 years" in listing and "14 days" in listing


@pytest.mark.parametrize("days", ["0", "-3", "1.5", "five"])
def test_admin_refuses_a_retention_that_is_not_a_positive_whole_number_of_days(
    admin_client, policy, days
):
    url = reverse("admin:consent_policy_change", args=[policy.pk])
    data = {
        "version": policy.version,
        "title": policy.title,
        "summary": policy.summary,
        "body": policy.body,
        "effective_at_0": policy.effective_at.strftime("%Y-%m-%d"),
        "effective_at_1": policy.effective_at.strftime("%H:%M:%S"),
        "decision_deadline_0": policy.decision_deadline.strftime("%Y-%m-%d"),
        "decision_deadline_1": policy.decision_deadline.strftime("%H:%M:%S"),
        "opt_in_retention": days,
        "opt_out_retention": "30",
        "change_kind": "material",
        **NO_TRANSLATIONS,
    }

    response = admin_client.post(url, data)

    assert response.status_code == 200
    assert Policy.objects.get(pk=policy.pk).opt_in_retention == timedelta(days=1825)


@pytest.mark.parametrize(
    "missing",
    [
        "CONSENT_CONTROLLER_NAME",
        "CONSENT_CONTROLLER_ADDRESS",
        "CONSENT_CONTROLLER_CONTACT",
        "SITE_URL",
    ],
)
def test_production_refuses_to_start_without_the_controller_or_site_url(missing, settings):
    env = {**os.environ, **PRODUCTION_ENV, missing: ""}
    result = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and missing in result.stderr
