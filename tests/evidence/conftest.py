import pytest

from consent.models import Choice
from tests.consent.factories import PolicyFactory
from tests.factories import settings_decision


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
        settings_decision(user, policy, choice)
        for choice in (Choice.OPT_IN, Choice.OPT_OUT, Choice.OPT_IN)
    ]
    return records[1]
