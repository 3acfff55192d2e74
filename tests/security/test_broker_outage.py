"""A broker outage costs background work, never a request that already saved its data."""

import pytest
from celery.app.task import Task
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse
from django_celery_beat.models import IntervalSchedule, PeriodicTask
from kombu.exceptions import OperationalError

from conversations.models import Conversation
from conversations.tasks import classify_conversation_safety
from retention.admin import TASKS_NOT_QUEUED
from retention.models import RetentionRun
from tests.consent.factories import PolicyFactory
from training.admin import EXPORT_NOT_QUEUED
from training.models import TrainingSnapshot

# Real commits: the enqueue runs in on_commit, inside the request, as in production.
pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def broker_down(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(classify_conversation_safety, "delay", refuse)


def test_a_chat_post_is_saved_and_answered_while_the_broker_is_down(
    client, settings, django_user_model, broker_down
):
    settings.SAFETY_CLASSIFIER = "tests.retention.classifiers.flag_when_asked_about_weapons"
    client.force_login(django_user_model.objects.create_user("chat@example.com", "pw-12345678"))

    response = client.post(reverse("conversations:new"), {"text": "How do tides work?"})

    assert response.status_code == 303
    assert Conversation.objects.count() == 1


@pytest.fixture
def broker_refuses_everything(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(Task, "apply_async", refuse)


@pytest.fixture
def staff_client(client, django_user_model):
    superuser = django_user_model.objects.create_superuser("ops@example.com", "pw-12345678")
    client.force_login(superuser, backend="consent.backends.ConsentStandingBackend")
    return client


def test_the_export_button_says_the_queue_is_down_and_starts_nothing(
    staff_client, settings, tmp_path, broker_refuses_everything
):
    settings.TRAINING_EXPORT_DIR = tmp_path
    PolicyFactory()

    response = staff_client.post(reverse("admin:training_trainingsnapshot_export"), follow=True)

    assert response.status_code == 200
    assert EXPORT_NOT_QUEUED in response.content.decode()
    assert not TrainingSnapshot.objects.exists()
    assert list(tmp_path.iterdir()) == []


def test_running_scheduled_tasks_while_the_queue_is_down_says_which_did_not_start(
    staff_client, broker_refuses_everything
):
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    purge = PeriodicTask.objects.create(
        name="Purge now", task="retention.tasks.purge_expired_conversations", interval=every_hour
    )

    response = staff_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_tasks", ACTION_CHECKBOX_NAME: [purge.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert TASKS_NOT_QUEUED.format(names="Purge now") in response.content.decode()
    assert not RetentionRun.objects.exists()


def test_running_scheduled_tasks_with_the_queue_up_starts_them(staff_client):
    every_hour = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.HOURS)
    purge = PeriodicTask.objects.create(
        name="Purge now", task="retention.tasks.purge_expired_conversations", interval=every_hour
    )

    response = staff_client.post(
        reverse("admin:django_celery_beat_periodictask_changelist"),
        {"action": "run_tasks", ACTION_CHECKBOX_NAME: [purge.pk]},
        follow=True,
    )

    # The test settings run tasks eagerly: the purge ran inside the request.
    assert "Started: Purge now." in response.content.decode()
    assert RetentionRun.objects.count() == 1


# Account emails go through a worker so the answer never says whether an address has an
# account; with the queue down the person gets the same page (and can ask again).


def test_sign_up_answers_while_the_queue_is_down(client, broker_refuses_everything):
    response = client.post(reverse("accounts:signup"), {"email": "new@example.com"})

    assert response.status_code == 200
    assert "accounts/signup_sent.html" in [t.name for t in response.templates]


def test_password_reset_answers_while_the_queue_is_down(client, broker_refuses_everything):
    response = client.post(reverse("accounts:password_reset"), {"email": "who@example.com"})

    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:password_reset_done")


def test_email_change_answers_while_the_queue_is_down(
    client, django_user_model, broker_refuses_everything
):
    person = django_user_model.objects.create_user("mover@example.com", "pw-12345678")
    client.force_login(person)

    response = client.post(
        reverse("accounts:email_change"),
        {"new_email": "moved@example.com", "password": "pw-12345678"},
    )

    assert response.status_code == 200
    assert "accounts/email_change_sent.html" in [t.name for t in response.templates]
    person.refresh_from_db()
    assert person.email == "mover@example.com"
