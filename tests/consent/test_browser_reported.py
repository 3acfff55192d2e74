"""Evidence the person's browser reports (the toggle was touched, "Learn more" was opened)
is stored as reported and labelled so in the receipt, its JSON and admin."""

import pytest
from django.urls import reverse

from consent.admin import BROWSER_REPORTED
from consent.chain import record_hash_compute
from consent.models import ConsentRecord
from consent.receipts import REPORTED_BY_BROWSER, REPORTED_BY_BROWSER_NOTE

from .conftest import form_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def record(client, existing_user, policy, use_variant) -> ConsentRecord:
    use_variant("accept_toggle_on")
    client.force_login(existing_user)
    client.post(
        reverse("consent:decide"),
        {
            "form_token": form_token(client),
            "decision": "accept",
            "training": "on",
            "toggle_touched": "1",
            "learn_more_opened": "1",
        },
    )
    return ConsentRecord.objects.get()


def test_the_receipt_json_says_which_fields_the_browser_reported(client, record):
    receipt = client.get(reverse("consent:receipt_json", args=[record.pk])).json()

    assert receipt["event"]["toggle_touched"] is True
    assert receipt["event"]["learn_more_opened"] is True
    assert receipt["event"]["reported_by"] == {
        "toggle_touched": REPORTED_BY_BROWSER,
        "learn_more_opened": REPORTED_BY_BROWSER,
    }


def test_the_receipt_page_labels_both_browser_reported_fields(client, record):
    page = client.get(reverse("consent:receipt", args=[record.pk])).content.decode()

    assert page.count(f"({REPORTED_BY_BROWSER_NOTE})") == 2
    assert "“Learn more” opened" in page


def test_labelling_leaves_the_hashed_content_and_the_chain_as_they_were(record):
    assert record_hash_compute(record, None) == record.record_hash


def test_admin_shows_the_browser_reported_fields_under_labels_that_say_so(admin_client, record):
    page = admin_client.get(
        reverse("admin:consent_consentrecord_change", args=[record.pk])
    ).content.decode()

    assert BROWSER_REPORTED["toggle_touched"] in page
    assert BROWSER_REPORTED["learn_more_opened"] in page
    assert REPORTED_BY_BROWSER_NOTE in BROWSER_REPORTED["toggle_touched"]
