"""Deadline reminder emails (issue 13): the real time left, the date in the person's zone,
links straight to the decision and to privacy settings, both parts, chat users only, and
one reminder of each kind per user and decision basis whatever the schedule does."""

import threading
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.utils import timezone

from consent.deadlines import deadline_text, time_left
from consent.models import DeadlineReminder
from consent.services import deadline_reminders_send
from conversations.services import conversation_start

DEADLINE = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)
SITE_ZONE = SimpleNamespace()  # an account without a time zone of its own
BERLIN = SimpleNamespace(time_zone="Europe/Berlin")


@pytest.mark.parametrize(
    ("before", "said"),
    [
        (timedelta(days=7), "in 7 days"),
        (timedelta(days=4, hours=23), "in 4 days"),  # never rounded up to "in 5 days"
        (timedelta(days=2, hours=1), "in 2 days"),
        (timedelta(hours=30), "tomorrow"),
        (timedelta(hours=20), "tomorrow"),
        (timedelta(hours=5), "today"),
        (timedelta(minutes=59), "in less than an hour"),
    ],
)
def test_time_left_is_computed_from_the_actual_deadline(before, said):
    assert time_left(DEADLINE, now=DEADLINE - before, user=SITE_ZONE) == said


def test_tomorrow_is_the_persons_tomorrow():
    # 01:00 on 4 December in UTC is still 3 December in Los Angeles.
    now = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)
    los_angeles = SimpleNamespace(time_zone="America/Los_Angeles")

    assert time_left(DEADLINE, now=now, user=SITE_ZONE) == "today"
    assert time_left(DEADLINE, now=now, user=los_angeles) == "tomorrow"


def test_the_date_is_in_the_persons_zone_or_the_named_site_zone():
    assert deadline_text(DEADLINE, user=BERLIN).date_time == "4 December 2026, 18:00 CET"
    assert deadline_text(DEADLINE, user=BERLIN).date == "4 December 2026"
    assert deadline_text(DEADLINE, user=SITE_ZONE).date == "4 December 2026 (UTC)"


@pytest.mark.django_db
def test_the_reminder_says_the_time_really_left_and_links_straight_to_the_decision(
    existing_user, policy, settings
):
    settings.SITE_URL = "https://chat.example.com"
    settings.PRODUCT_NAME = "Parley"

    with time_machine.travel(policy.decision_deadline - timedelta(days=4, hours=23), tick=False):
        deadline_reminders_send()

    [email] = mail.outbox
    html, mimetype = email.alternatives[0]
    date = deadline_text(policy.decision_deadline, user=existing_user)
    assert mimetype == "text/html"
    assert email.subject == f"Decide by {date.date}: may Parley use your chats for training?"
    for part in (email.body, html):
        assert f"by {date.date_time}" in part
        assert "(in 4 days)" in part
        assert "https://chat.example.com/consent/decide/" in part
        assert "https://chat.example.com/settings/privacy/" in part
        assert "The Parley team" in part
    assert "in 7 days" not in email.body


@pytest.mark.django_db
def test_staff_who_never_chat_get_no_reminder_and_staff_who_chat_do(django_user_model, policy):
    joined = policy.effective_at - timedelta(days=90)
    django_user_model.objects.create_user(
        "operator@example.com", "pw-12345678", is_staff=True, date_joined=joined
    )
    chatting = django_user_model.objects.create_user(
        "chatting-staff@example.com", "pw-12345678", is_staff=True, date_joined=joined
    )
    conversation_start(user=chatting, text="hello")

    with time_machine.travel(policy.decision_deadline - timedelta(days=3)):
        deadline_reminders_send()

    assert [email.to for email in mail.outbox] == [["chatting-staff@example.com"]]


@pytest.mark.django_db
def test_running_the_task_twice_sends_each_kind_once(existing_user, policy):
    with time_machine.travel(policy.decision_deadline - timedelta(days=6)):
        deadline_reminders_send()
        deadline_reminders_send()
    with time_machine.travel(policy.decision_deadline - timedelta(hours=20)):
        deadline_reminders_send()
        deadline_reminders_send()

    assert len(mail.outbox) == 2
    assert DeadlineReminder.objects.filter(user=existing_user).count() == 2


@pytest.mark.django_db(transaction=True)
def test_concurrent_runs_send_each_reminder_once(django_user_model):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: real row locks between connections")
    from .factories import PolicyFactory

    policy = PolicyFactory()
    for i in range(6):
        django_user_model.objects.create_user(
            f"racer{i}@example.com", "pw-12345678", date_joined=timezone.now() - timedelta(days=90)
        )
    barrier = threading.Barrier(4)
    failures = []

    def run():
        from django.db import connection as thread_connection

        try:
            barrier.wait()
            with time_machine.travel(policy.decision_deadline - timedelta(days=3)):
                deadline_reminders_send()
        except Exception as exc:
            failures.append(exc)
        finally:
            thread_connection.close()

    threads = [threading.Thread(target=run) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert failures == []
    assert len(mail.outbox) == 6
    assert DeadlineReminder.objects.count() == 6
