import pytest


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
