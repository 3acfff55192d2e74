import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from consent.models import ConsentRecord, Policy
from consent.services import consent_chains_verify
from conversations.models import Conversation

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int, int]:
    return (
        get_user_model().objects.count(),
        Policy.objects.count(),
        ConsentRecord.objects.count(),
        Conversation.objects.count(),
    )


def test_seed_demo_is_idempotent_and_its_chains_verify(capsys):
    call_command("seed_demo")
    first = counts()

    call_command("seed_demo")

    assert counts() == first
    assert list(consent_chains_verify()) == []
    output = capsys.readouterr().out
    assert "newcomer@example.com" in output and "analyst@example.com" in output


def test_seed_demo_has_conversations_older_than_30_days_and_than_the_policy():
    call_command("seed_demo")
    policy = Policy.objects.get()
    existing = get_user_model().objects.get(email="existing@example.com")

    ages = [c.last_activity_at for c in Conversation.objects.filter(user=existing)]

    assert any(at < policy.effective_at for at in ages)
    assert any(at > policy.effective_at for at in ages)
