"""``verify_evidence`` reads records as text and builds their canonical JSON itself (a
million records in seconds): it must agree with consent.chain on every value, and it
checks the stored tree nodes that receipts' proofs are built from."""

import secrets
import tempfile
from contextlib import contextmanager
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings as django_settings
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consent import verification
from consent.models import Choice, Surface
from consent.services import consent_record_create
from consent.services.decision_forms import RequestContext
from consent.verification import evidence_verify
from evidence import services as evidence_services
from evidence.db import trigger_statements
from evidence.models import TreeNode
from tests.consent.factories import PolicyFactory
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Anything a browser might send, short of what PostgreSQL text cannot hold (NUL).
TEXT = st.text(st.characters(exclude_characters="\x00", exclude_categories=["Cs"]), max_size=40)


def _decide(user, policy, choice, *, user_agent="", locale=""):
    return consent_record_create(
        user=user,
        policy=policy,
        choice=choice,
        surface=Surface.SETTINGS,
        form_key=secrets.token_hex(16),
        shown_at=timezone.now(),
        context=RequestContext(user_agent=user_agent, locale=locale),
    )


@contextmanager
def _own_sink():
    """A sink per hypothesis example: the database rolls back, files would not."""
    with tempfile.TemporaryDirectory() as sink:
        storages = {
            **django_settings.STORAGES,
            "evidence_sink": {
                "BACKEND": "django.core.files.storage.FileSystemStorage",
                "OPTIONS": {"location": sink},
            },
        }
        with override_settings(STORAGES=storages):
            yield


def _findings() -> list[str]:
    return [str(f) for f in evidence_verify().findings]


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(user_agent=TEXT, locale=TEXT)
def test_records_with_any_text_verify_clean(user_agent, locale):
    with _own_sink(), transaction.atomic():
        policy = PolicyFactory(effective_at=timezone.now() - timedelta(days=1))
        user = UserFactory()
        _decide(user, policy, Choice.OPT_IN, user_agent=user_agent[:400], locale=locale[:35])
        _decide(user, policy, Choice.OPT_OUT, user_agent='Mozilla/5.0 "quoted" \\ \n')
        evidence_services.checkpoint()

        assert _findings() == []
        transaction.set_rollback(True)


def test_a_whole_second_and_a_microsecond_timestamp_both_verify():
    policy = PolicyFactory(effective_at=timezone.now() - timedelta(days=1))
    user = UserFactory()
    with time_machine.travel(timezone.now().replace(microsecond=0), tick=False):
        _decide(user, policy, Choice.OPT_IN)
    with time_machine.travel(timezone.now().replace(microsecond=7) + timedelta(seconds=5)):
        _decide(user, policy, Choice.OPT_OUT)
    evidence_services.checkpoint()

    assert _findings() == []


def test_verification_refuses_to_run_if_its_canonical_form_drifts_from_the_chain(monkeypatch):
    _decide(UserFactory(), PolicyFactory(), Choice.OPT_IN)
    monkeypatch.setattr(verification, "record_canonical", lambda record: "{}")

    with pytest.raises(RuntimeError, match="canonical JSON"):
        evidence_verify()


def test_an_altered_tree_node_is_named():
    policy = PolicyFactory(effective_at=timezone.now() - timedelta(days=1))
    for _ in range(16):
        _decide(UserFactory(), policy, Choice.OPT_IN)
    evidence_services.checkpoint()
    with connection.cursor() as cursor:
        for sql in trigger_statements(connection.vendor, "evidence_treenode")[1]:
            cursor.execute(sql, None)
    TreeNode.objects.filter(level=4, index=0).update(hash="ab" * 32)

    assert _findings() == [
        "tree node 4/0: differs from the records: receipts would carry a proof that fails"
    ]


def test_a_missing_tree_node_is_named():
    policy = PolicyFactory(effective_at=timezone.now() - timedelta(days=1))
    for _ in range(16):
        _decide(UserFactory(), policy, Choice.OPT_IN)
    evidence_services.checkpoint()
    with connection.cursor() as cursor:
        for sql in trigger_statements(connection.vendor, "evidence_treenode")[1]:
            cursor.execute(sql, None)
    TreeNode.objects.all().delete()

    assert _findings() == ["tree nodes: 1 of 1 are missing"]
