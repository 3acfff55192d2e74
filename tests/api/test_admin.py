"""Issuing and revoking service tokens in admin."""

import re

import pytest
from django.contrib.admin.models import ADDITION, LogEntry
from django.test import Client
from django.urls import reverse

from api.admin import SECRET_SHOWN_ONCE
from api.models import ServiceToken
from api.tokens import token_digest

pytestmark = pytest.mark.django_db

SECRET_RE = re.compile(r'id="service-token"[^>]*value="([^"]+)"')


def issue(admin_client, name="trainer") -> tuple[str, str]:
    response = admin_client.post(reverse("admin:api_servicetoken_add"), {"name": name})
    assert response.status_code == 200
    html = response.content.decode()
    return SECRET_RE.search(html).group(1), html


def test_issuing_shows_the_secret_once_and_stores_only_its_digest(admin_client):
    secret, html = issue(admin_client)

    token = ServiceToken.objects.get()
    assert SECRET_SHOWN_ONCE in html
    assert token.secret_sha256 == token_digest(secret)
    assert secret.startswith(token.prefix)


def test_issued_secret_works_against_the_api(admin_client, policy):
    secret, _ = issue(admin_client)

    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(
        reverse("api:policy_current")
    )

    assert response.status_code == 200


def test_the_secret_appears_nowhere_after_the_issuing_page(admin_client, admin_user):
    secret, _ = issue(admin_client)
    token = ServiceToken.objects.get()

    pages = [
        admin_client.get(reverse("admin:api_servicetoken_changelist")),
        admin_client.get(reverse("admin:api_servicetoken_change", args=[token.pk])),
        admin_client.get(reverse("admin:api_servicetoken_history", args=[token.pk])),
    ]

    assert all(page.status_code == 200 for page in pages)
    assert all(secret not in page.content.decode() for page in pages)
    assert token.prefix in pages[0].content.decode()
    assert not LogEntry.objects.filter(change_message__contains=secret).exists()
    assert LogEntry.objects.filter(action_flag=ADDITION, object_id=str(token.pk)).exists()


def test_issuing_needs_a_name(admin_client):
    response = admin_client.post(reverse("admin:api_servicetoken_add"), {"name": ""})

    assert response.status_code == 200
    assert not ServiceToken.objects.exists()


def test_revoke_action_revokes_and_the_token_stops_working(admin_client, policy):
    secret, _ = issue(admin_client)
    token = ServiceToken.objects.get()

    admin_client.post(
        reverse("admin:api_servicetoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
    )

    token.refresh_from_db()
    assert token.revoked_at is not None
    response = Client(headers={"Authorization": f"Bearer {secret}"}).get(
        reverse("api:policy_current")
    )
    assert response.status_code == 401


def test_tokens_cannot_be_edited_or_deleted_even_by_a_superuser(admin_client):
    issue(admin_client)
    token = ServiceToken.objects.get()

    edit = admin_client.post(
        reverse("admin:api_servicetoken_change", args=[token.pk]), {"name": "renamed"}
    )
    delete = admin_client.post(
        reverse("admin:api_servicetoken_delete", args=[token.pk]), {"post": "yes"}
    )

    assert (edit.status_code, delete.status_code) == (403, 403)
    token.refresh_from_db()
    assert token.name == "trainer"


def test_staff_without_the_permission_cannot_issue(client, django_user_model):
    staff = django_user_model.objects.create_user("staff@example.com", "pw", is_staff=True)
    client.force_login(staff)

    response = client.post(reverse("admin:api_servicetoken_add"), {"name": "x"})

    assert response.status_code == 403
    assert not ServiceToken.objects.exists()
