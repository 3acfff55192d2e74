"""Admin keeps every wording fix attached to the version it amends, on the same retention
(DESIGN §1: a retention change is material; consent.services.policies)."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from consent.models import ChangeKind, Policy
from consent.selectors import POLICY_ORDER, policy_bases_of
from consent.services.policies import AMENDED_RETENTION
from tests.admin_inlines import NO_TRANSLATIONS

from .factories import PolicyFactory

pytestmark = pytest.mark.django_db


def version_form(*, version, at, opt_in="1825", opt_out="30", kind=None) -> dict:
    deadline = at + timedelta(days=30)
    form = {
        "version": version,
        "title": "Consumer terms and privacy policy",
        "summary": "We'd like to use your chats to improve our models.",
        "body": "Full policy text.",
        "effective_at_0": at.strftime("%Y-%m-%d"),
        "effective_at_1": at.strftime("%H:%M:%S"),
        "decision_deadline_0": deadline.strftime("%Y-%m-%d"),
        "decision_deadline_1": deadline.strftime("%H:%M:%S"),
        "opt_in_retention": opt_in,
        "opt_out_retention": opt_out,
        **NO_TRANSLATIONS,
    }
    return form if kind is None else {**form, "change_kind": kind}  # set only on creation


def amended_version(fix: Policy) -> str:
    policies = list(Policy.objects.order_by(*POLICY_ORDER))
    return policy_bases_of(policies)[fix.pk].material.version


@pytest.fixture
def fix(policy):
    """A wording fix of ``policy``, in effect since now."""
    return PolicyFactory(
        version="2026-fix", change_kind=ChangeKind.EDITORIAL, effective_at=timezone.now()
    )


def test_a_versions_retention_cannot_change_while_a_wording_fix_amends_it(
    admin_client, policy, fix
):
    url = reverse("admin:consent_policy_change", args=[policy.pk])

    response = admin_client.post(
        url, version_form(version=policy.version, at=policy.effective_at, opt_in="730")
    )

    assert response.status_code == 200
    page = response.content.decode().replace("&#x27;", "'")
    assert AMENDED_RETENTION.format(version=fix.version) in page
    policy.refresh_from_db()
    assert policy.opt_in_retention == timedelta(days=1825)


def test_a_material_version_after_a_wording_fix_leaves_the_fix_amending_its_own_version(
    admin_client, policy, fix
):
    response = admin_client.post(
        reverse("admin:consent_policy_add"),
        version_form(
            version="2026-next",
            at=timezone.now() + timedelta(days=1),
            opt_in="730",
            kind="material",
        ),
    )

    assert response.status_code == 302
    assert Policy.objects.get(version="2026-next").opt_in_retention == timedelta(days=730)
    assert amended_version(fix) == policy.version


def test_a_version_a_wording_fix_amends_can_still_have_its_deadline_moved(
    admin_client, policy, fix
):
    url = reverse("admin:consent_policy_change", args=[policy.pk])
    form = version_form(version=policy.version, at=policy.effective_at)
    later = policy.decision_deadline + timedelta(days=14)
    form["decision_deadline_0"] = later.strftime("%Y-%m-%d")

    response = admin_client.post(url, form)

    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.decision_deadline.date() == later.date()
    assert amended_version(fix) == policy.version
