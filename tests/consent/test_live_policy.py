"""Every consent write checks the live policy in the database under the user's lock
(DESIGN §4 rule 4): a per-process memo may serve reads, never a decision or a deferral.

"Another process" publishing a policy is simulated by writing it without the ORM's save
signals (``bulk_create``), so this process's memo does not hear of it, as it would not.
"""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.db import connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent import errors
from consent.models import ConsentRecord, JurisdictionGroup, ModalVariant, NoticeDeferral, Policy
from consent.services import FORM_SALT, variant_make_default

from .conftest import TOKEN_RE, form_token
from .factories import PolicyFactory

pytestmark = pytest.mark.django_db

WAIT = 30  # seconds; only a bound against a hung test, never an assertion


def publish_elsewhere(version: str = "2099-01") -> Policy:
    """A policy in effect from now on, published as another process would: no signal here."""
    newer = PolicyFactory.build(
        version=version,
        title="Terms and privacy policy, second edition",
        effective_at=timezone.now() - timedelta(seconds=1),
        decision_deadline=timezone.now() + timedelta(days=14),
    )
    Policy.objects.bulk_create([newer])
    return Policy.objects.get(version=version)


def rendered_policy_version(response) -> str:
    match = TOKEN_RE.search(response.content.decode())
    assert match, "no decision form was rendered"
    return signing.loads(match.group(1), salt=FORM_SALT)["p"]


def test_a_form_rendered_before_another_process_published_a_policy_records_nothing(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client)  # this process's memo now holds the first policy
    newer = publish_elsewhere()

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert not ConsentRecord.objects.exists()
    # The answer is the new policy's form, to read and decide on.
    assert rendered_policy_version(response) == newer.version
    assert newer.title in response.content.decode()


def test_the_new_form_shown_after_a_refusal_records_under_the_new_policy(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    old_token = form_token(client)
    newer = publish_elsewhere()
    refusal = client.post(
        reverse("consent:decide"), {"form_token": old_token, "decision": "opt_in"}
    )
    new_token = TOKEN_RE.search(refusal.content.decode()).group(1)

    client.post(reverse("consent:decide"), {"form_token": new_token, "decision": "opt_out"})

    assert ConsentRecord.objects.get().policy == newer


def test_an_htmx_submit_of_a_superseded_form_swaps_in_the_new_form(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client)
    newer = publish_elsewhere()

    response = client.post(
        reverse("consent:decide"),
        {"form_token": token, "decision": "opt_in"},
        headers={"HX-Request": "true"},
    )

    assert response.status_code == 409
    assert response.headers["HX-Reswap"] == "outerHTML"
    assert rendered_policy_version(response) == newer.version
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_a_not_now_rendered_before_another_process_published_a_policy_is_refused(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = form_token(client)  # the existing-user notice under the first policy
    newer = publish_elsewhere()

    response = client.post(reverse("consent:defer"), {"form_token": token})

    assert response.status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert rendered_policy_version(response) == newer.version
    assert not NoticeDeferral.objects.exists()


def test_a_settings_change_rendered_before_another_process_published_a_policy_is_refused(
    client, existing_user, policy, use_variant
):
    use_variant("two_buttons")
    client.force_login(existing_user)
    client.post(reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_in"})
    settings_token = form_token(client, reverse("consent:privacy_settings"))
    publish_elsewhere()

    response = client.post(
        reverse("consent:privacy_change"), {"form_token": settings_token, "decision": "opt_out"}
    )

    assert response.status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert ConsentRecord.objects.count() == 1


# --- Two connections on PostgreSQL: the policy is published while the decision waits ------


def _waiting_on_a_lock(pid: int) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT wait_event_type FROM pg_stat_activity WHERE pid = %s", [pid])
        row = cursor.fetchone()
    return row is not None and row[0] == "Lock"


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_policy_published_while_a_decision_waits_for_the_users_lock_is_the_one_checked(
    existing_user, policy
):
    """The check is made after the lock is granted, against the database, not before it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL: row locks between real connections")
    # Transactional tests run after a flush: the seeded designs may be gone, so bring one.
    design = ModalVariant.objects.create(
        key="concurrency-two-buttons",
        name="Two buttons",
        layout="two_buttons",
        headline="May we use your chats to train our models?",
        body="Your choice.",
        accept_label="Allow",
        decline_label="Don't allow",
    )
    variant_make_default(design, jurisdiction_groups=[JurisdictionGroup.REST_OF_WORLD])
    existing_user.country = "US"
    existing_user.save(update_fields=["country"])
    client = Client()
    client.force_login(existing_user)
    token = form_token(client)  # rendered, and memoised, under the first policy
    holding, publish, submitter_pid = threading.Event(), threading.Event(), []
    answers, failures = [], []

    def publisher():  # another process: locks the user, publishes, commits
        try:
            with transaction.atomic():
                list(type(existing_user).objects.select_for_update().filter(pk=existing_user.pk))
                holding.set()
                assert publish.wait(WAIT)
                publish_elsewhere()
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    def submitter():
        try:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_backend_pid()")
                submitter_pid.append(cursor.fetchone()[0])
            answers.append(
                client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})
            )
        except BaseException as exc:
            failures.append(exc)
        finally:
            connection.close()

    publishing = threading.Thread(target=publisher)
    publishing.start()
    assert holding.wait(WAIT)
    submitting = threading.Thread(target=submitter)
    submitting.start()
    deadline = timezone.now() + timedelta(seconds=WAIT)
    while not (submitter_pid and _waiting_on_a_lock(submitter_pid[0])):
        assert timezone.now() < deadline, "the decision never waited for the user's lock"
    publish.set()
    publishing.join(WAIT)
    submitting.join(WAIT)

    assert not failures
    assert answers[0].status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in answers[0].content.decode()
    assert not ConsentRecord.objects.exists()


@pytest.fixture
def scheduled(policy):
    """A newer policy published ahead of time: in effect five minutes from now."""
    takes_effect = timezone.now() + timedelta(minutes=5)
    return PolicyFactory(
        version="2099-03",
        effective_at=takes_effect,
        decision_deadline=takes_effect + timedelta(days=14),
    )


def test_a_decision_before_a_scheduled_policy_takes_effect_is_recorded_under_the_live_one(
    client, existing_user, policy, use_variant, scheduled
):
    use_variant("two_buttons")
    client.force_login(existing_user)

    client.post(reverse("consent:decide"), {"form_token": form_token(client), "decision": "opt_in"})

    assert ConsentRecord.objects.get().policy == policy


def test_a_policy_taking_effect_while_the_decision_waits_for_the_lock_is_the_one_checked(
    client, existing_user, policy, use_variant, scheduled, monkeypatch
):
    from consent.services import decisions

    use_variant("two_buttons")
    client.force_login(existing_user)
    with time_machine.travel(scheduled.effective_at - timedelta(seconds=30), tick=False) as clock:
        token = form_token(client)
        locked_and_read = decisions._decision_basis_locked

        def slow_lock(**kwargs):  # the user's lock was granted after the policy took effect
            basis = locked_and_read(**kwargs)
            clock.move_to(scheduled.effective_at + timedelta(seconds=1))
            return basis

        monkeypatch.setattr(decisions, "_decision_basis_locked", slow_lock)
        response = client.post(
            reverse("consent:decide"), {"form_token": token, "decision": "opt_in"}
        )

    assert response.status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert not ConsentRecord.objects.exists()
