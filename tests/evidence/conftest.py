import secrets

import pytest
from django.utils import timezone

from consent.models import Choice, Surface
from consent.services import consent_record_create
from tests.consent.factories import PolicyFactory


@pytest.fixture(autouse=True)
def evidence_sink(settings, tmp_path):
    """Each test publishes its signed heads to a directory of its own."""
    sink = tmp_path / "checkpoints"
    settings.STORAGES = {
        **settings.STORAGES,
        "evidence_sink": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(sink)},
        },
    }
    return sink


@pytest.fixture
def decided(client_logged_in, user):
    policy = PolicyFactory()
    records = [
        consent_record_create(
            user=user,
            policy=policy,
            choice=choice,
            surface=Surface.SETTINGS,
            form_key=secrets.token_hex(16),
            shown_at=timezone.now(),
        )
        for choice in (Choice.OPT_IN, Choice.OPT_OUT, Choice.OPT_IN)
    ]
    return records[1]
