"""Publishing a policy version in admin: its kind is asked, with what each kind does, and a
wording fix that changes retention (or has nothing to amend) is refused."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ChangeKind, Policy
from consent.services.policies import (
    BASIS_MOVED,
    EDITORIAL_RETENTION,
    FIRST_VERSION_MATERIAL,
)
from tests.admin_inlines import NO_TRANSLATIONS

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db


def version_form(*, version="2026-09a", kind="editorial", opt_in="1825", opt_out="30", at=None):
    at = at or timezone.now() + timedelta(days=1)
    deadline = at + timedelta(days=30)
    return {
        "version": version,
        "title": "Consumer terms and privacy policy",
        "summary": "We'd like to use your chats to improve our models.",
        "body": "Full policy text, with a typo fixed.",
        "effective_at_0": at.strftime("%Y-%m-%d"),
        "effective_at_1": at.strftime("%H:%M:%S"),
        "decision_deadline_0": deadline.strftime("%Y-%m-%d"),
        "decision_deadline_1": deadline.strftime("%H:%M:%S"),
        "opt_in_retention": opt_in,
        "opt_out_retention": opt_out,
        "change_kind": kind,
        **NO_TRANSLATIONS,
    }


def test_creating_a_version_asks_for_its_kind_and_says_what_each_does(admin_client, policy):
    page = admin_client.get(reverse("admin:consent_policy_add")).content.decode()

    assert 'type="radio" name="change_kind" value="editorial"' in page
    assert 'type="radio" name="change_kind" value="material"' in page
    assert "checked" not in page.split('name="change_kind"')[1].split(">")[0]
    assert "Everyone is asked again" in page
    assert "nobody is asked again" in page


def test_a_version_without_a_kind_is_refused(admin_client, policy):
    response = admin_client.post(reverse("admin:consent_policy_add"), version_form(kind=""))

    assert response.status_code == 200
    assert not Policy.objects.filter(version="2026-09a").exists()


def test_a_wording_fix_with_the_same_retention_is_published(admin_client, policy):
    response = admin_client.post(reverse("admin:consent_policy_add"), version_form())

    assert response.status_code == 302
    assert Policy.objects.get(version="2026-09a").change_kind == ChangeKind.EDITORIAL


def test_a_wording_fix_that_changes_retention_is_refused(admin_client, policy):
    response = admin_client.post(reverse("admin:consent_policy_add"), version_form(opt_in="730"))

    assert response.status_code == 200
    expected = EDITORIAL_RETENTION.format(
        version=policy.version, opt_in="5 years", opt_out="30 days"
    )
    assert expected in response.content.decode().replace("&#x27;", "'")
    assert not Policy.objects.filter(version="2026-09a").exists()


def test_the_same_retention_change_is_accepted_as_material(admin_client, policy):
    response = admin_client.post(
        reverse("admin:consent_policy_add"), version_form(kind="material", opt_in="730")
    )

    assert response.status_code == 302


def test_the_first_version_cannot_be_editorial(admin_client):
    response = admin_client.post(reverse("admin:consent_policy_add"), version_form())

    assert response.status_code == 200
    assert FIRST_VERSION_MATERIAL in response.content.decode().replace("&#x27;", "'")
    assert not Policy.objects.exists()


def test_a_version_may_not_slip_between_a_wording_fix_and_what_it_amends(admin_client, policy):
    fix = PolicyFactory(
        version="2026-fix", change_kind=ChangeKind.EDITORIAL, effective_at=timezone.now()
    )
    between = policy.effective_at + (fix.effective_at - policy.effective_at) / 2

    response = admin_client.post(
        reverse("admin:consent_policy_add"), version_form(kind="material", at=between)
    )

    assert response.status_code == 200
    assert BASIS_MOVED.format(version=fix.version) in response.content.decode().replace(
        "&#x27;", "'"
    )


def test_a_versions_kind_cannot_be_changed_once_created(admin_client, policy):
    page = admin_client.get(reverse("admin:consent_policy_change", args=[policy.pk]))

    assert 'name="change_kind"' not in page.content.decode()
