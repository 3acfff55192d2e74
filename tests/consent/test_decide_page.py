"""The decision screen renders its copy once per process; what differs per request does not leak."""

import re

import pytest
from django.test import Client
from django.urls import reverse

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

CSRF_RE = r'name="csrfmiddlewaretoken" value="([^"]+)"'


def page(client) -> str:
    return client.get(reverse("consent:decide")).content.decode()


def test_each_rendering_gets_its_own_form_token_and_csrf_token(
    new_user, existing_user, use_variant
):
    use_variant("two_buttons")
    first, second = Client(), Client()
    first.force_login(new_user)
    second.force_login(existing_user)

    pages = [page(first), page(first), page(second)]

    tokens = [TOKEN_RE.search(html).group(1) for html in pages]
    assert len(set(tokens)) == 3
    csrf = {re.search(CSRF_RE, html).group(1) for html in pages}
    assert len(csrf) == 3  # masked per rendering, never copied from a cached fragment
    assert 'aria-labelledby="consent-headline-first_login"' in pages[0]
    assert 'aria-labelledby="consent-headline-existing_notice"' in pages[2]
    assert "Not now" in pages[2] and "Not now" not in pages[0]


def test_new_wording_shows_on_the_next_rendering(client, new_user, use_variant):
    design = use_variant("two_buttons")
    client.force_login(new_user)
    assert design.headline in page(client)

    design.headline = "A clearer question about your chats"
    design.save(update_fields=["headline"])

    assert "A clearer question about your chats" in page(client)


def test_a_changed_deadline_shows_on_the_next_rendering(client, existing_user, policy, use_variant):
    use_variant("two_buttons")
    client.force_login(existing_user)
    page(client)

    policy.decision_deadline = policy.decision_deadline.replace(
        year=policy.decision_deadline.year + 1
    )
    policy.save(update_fields=["decision_deadline"])

    assert str(policy.decision_deadline.year) in page(client)


def test_the_pop_up_reads_the_session_and_the_user_and_writes_only_its_serving(
    client, new_user, use_variant, django_assert_num_queries, django_capture_on_commit_callbacks
):
    use_variant("two_buttons")
    client.force_login(new_user)
    # This process's memos of policies and designs are warm, and it knows the dialog's
    # shown copy is stored (remembered once the insert commits).
    with django_capture_on_commit_callbacks(execute=True):
        page(client)

    # The session, the user with their standing, and the one consent.ServedNotice insert.
    with django_assert_num_queries(3):
        html = page(client)

    assert 'aria-labelledby="consent-headline-first_login"' in html
