"""When no consent design may be shown to the EU/EEA/UK (every offered one fails the lint,
written past the admin checks), the person gets a page that says so, not a bare 500: a 503,
logged at ERROR with ids only, nothing written, and the way to their data rights and out open.
"""

import logging
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import (
    ConsentRecord,
    DesignDefault,
    JurisdictionGroup,
    ModalVariant,
    ServedNotice,
    ShownCopy,
)
from consent.presenters import __name__ as presenters_logger

from .factories import variant

pytestmark = pytest.mark.django_db

HEADLINE = "The consent question cannot be shown right now"
HEADLINE_DE = "Die Einwilligungsfrage kann gerade nicht angezeigt werden"
DIALOG = "data-consent-dialog"


@pytest.fixture
def no_design_for_the_eu(policy):
    """Every design that passes the lint switched off and a failing one forced in as the
    EU/EEA/UK default, as only a shell or a data migration could."""
    ModalVariant.objects.exclude(key="accept_toggle_on").update(is_active=False)
    DesignDefault.objects.update_or_create(
        jurisdiction_group=JurisdictionGroup.EU_EEA_UK,
        defaults={"variant": variant("accept_toggle_on"), "set_at": timezone.now()},
    )
    return policy


@pytest.fixture
def eu_new_user(django_user_model, no_design_for_the_eu):
    """Joined after the policy took effect: blocked until they decide."""
    return django_user_model.objects.create_user(
        "new-eu@example.com", "correct-horse-battery", country="DE"
    )


@pytest.fixture
def eu_existing_user(django_user_model, no_design_for_the_eu):
    """Joined long before the policy: shown the deferrable notice."""
    return django_user_model.objects.create_user(
        "existing-eu@example.com",
        "correct-horse-battery",
        date_joined=timezone.now() - timedelta(days=400),
        country="DE",
    )


def error_records(caplog) -> list[logging.LogRecord]:
    """The app's own ERROR lines (django.request adds its path-only one for any 5xx)."""
    return [
        r for r in caplog.records if r.levelno >= logging.ERROR and r.name.startswith("consent")
    ]


def assert_nothing_written() -> None:
    assert not ServedNotice.objects.exists()
    assert not ShownCopy.objects.exists()
    assert not ConsentRecord.objects.exists()


def test_a_blocked_eu_user_gets_a_503_page_that_says_why_and_where_to_go(
    client, eu_new_user, policy
):
    client.force_login(eu_new_user)

    response = client.get(reverse("consent:decide"))

    assert response.status_code == 503
    page = response.content.decode()
    assert HEADLINE in page
    assert "Nothing was recorded." in page
    assert DIALOG not in page  # no decision form to answer
    for url in (
        reverse("consent:privacy_settings"),
        reverse("training:data_export"),
        reverse("training:account_delete"),
        reverse("consent:policy", args=[policy.version]),
    ):
        assert f'href="{url}"' in page
    assert f'action="{reverse("accounts:logout")}"' in page
    # Blocked: the chat is not offered as a way on.
    assert f'href="{reverse("conversations:list")}"' not in page
    assert_nothing_written()


def test_the_failure_is_logged_at_error_with_ids_only(client, eu_new_user, policy, caplog):
    client.force_login(eu_new_user)

    with caplog.at_level(logging.WARNING, logger="consent"):
        client.get(reverse("consent:decide"))

    [record] = error_records(caplog)
    assert record.name == presenters_logger
    assert record.user_id == eu_new_user.pk
    assert record.policy_id == policy.pk
    assert (record.surface, record.jurisdiction_group) == ("first_login", "eu_eea_uk")
    assert eu_new_user.email not in record.getMessage()
    assert eu_new_user.email not in str(vars(record))


def test_a_product_page_leads_the_blocked_user_to_the_503_page(client, eu_new_user):
    client.force_login(eu_new_user)

    response = client.get(reverse("conversations:list"), follow=True)

    assert response.redirect_chain[-1][0].startswith(reverse("consent:decide"))
    assert response.status_code == 503
    assert HEADLINE in response.content.decode()


@pytest.mark.parametrize(
    "url_name", ["consent:privacy_settings", "training:data_export", "training:account_delete"]
)
def test_data_rights_pages_stay_open_to_the_blocked_user(client, eu_new_user, url_name):
    client.force_login(eu_new_user)

    response = client.get(reverse(url_name))

    assert response.status_code == 200
    assert DIALOG not in response.content.decode()
    assert_nothing_written()


def test_the_blocked_user_can_log_out(client, eu_new_user):
    client.force_login(eu_new_user)
    client.get(reverse("consent:decide"))

    response = client.post(reverse("accounts:logout"))

    assert response.status_code == 302
    assert "_auth_user_id" not in client.session


def test_the_page_is_in_the_persons_language(client, eu_new_user):
    eu_new_user.language = "de"
    eu_new_user.save(update_fields=["language"])
    client.force_login(eu_new_user)

    response = client.get(reverse("consent:decide"))

    assert response.status_code == 503
    page = response.content.decode()
    assert HEADLINE_DE in page
    assert "Es wurde nichts gespeichert." in page
    assert HEADLINE not in page


def test_an_htmx_request_loads_the_page_itself(client, eu_new_user):
    client.force_login(eu_new_user)

    # htmx swaps no 5xx answer (base.html's responseHandling), so it is sent to the page.
    response = client.get(reverse("consent:decide"), headers={"HX-Request": "true"})

    assert response.headers["HX-Redirect"] == reverse("consent:decide")
    assert_nothing_written()


def test_the_deferrable_notice_is_left_out_and_the_product_page_still_works(
    client, eu_existing_user, caplog
):
    client.force_login(eu_existing_user)

    with caplog.at_level(logging.WARNING, logger="consent"):
        response = client.get(reverse("conversations:list"))

    assert response.status_code == 200
    assert DIALOG not in response.content.decode()
    [record] = error_records(caplog)
    assert (record.user_id, record.surface) == (eu_existing_user.pk, "existing_notice")
    assert_nothing_written()


def test_the_decision_screen_offers_the_chat_back_to_a_user_not_yet_blocked(
    client, eu_existing_user
):
    client.force_login(eu_existing_user)

    response = client.get(reverse("consent:decide"))

    assert response.status_code == 503
    assert f'href="{reverse("conversations:list")}"' in response.content.decode()
    assert_nothing_written()
