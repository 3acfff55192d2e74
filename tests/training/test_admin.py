"""Snapshots and ledger rows are read-only evidence in admin; one button starts an export."""

import pytest
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from training.admin import EXPORT_QUEUED
from training.models import TrainingSnapshot, TrainingUse
from training.services import snapshot_export_plan, snapshot_shard_write

pytestmark = pytest.mark.django_db

EXPORT_URL = reverse("admin:training_trainingsnapshot_export")


@pytest.fixture
def snapshot(person, decide, chat, export):
    alice = person()
    decide.opt_in(alice)
    chat(alice)
    return export()


@pytest.mark.parametrize("model", ["trainingsnapshot", "traininguse"])
def test_changelist_renders_without_add_button(admin_client, snapshot, model):
    response = admin_client.get(reverse(f"admin:training_{model}_changelist"))

    assert response.status_code == 200
    assert reverse(f"admin:training_{model}_add") not in response.content.decode()


def test_snapshot_detail_is_read_only(admin_client, snapshot):
    url = reverse("admin:training_trainingsnapshot_change", args=[snapshot.pk])

    response = admin_client.post(url, {"message_count": 0})

    assert response.status_code == 403
    snapshot.refresh_from_db()
    assert snapshot.message_count == 2


def test_ledger_row_cannot_be_deleted_from_admin(admin_client, snapshot):
    use = TrainingUse.objects.get()

    response = admin_client.post(
        reverse("admin:training_traininguse_delete", args=[use.pk]), {"post": "yes"}
    )

    assert response.status_code == 403
    assert TrainingUse.objects.filter(pk=use.pk).exists()


def test_ledger_search_by_a_non_numeric_term_does_not_fail(admin_client, snapshot):
    response = admin_client.get(reverse("admin:training_traininguse_changelist"), {"q": "abc"})

    assert response.status_code == 200


def test_export_button_queues_an_export(admin_client, admin_user, snapshot, settings, tmp_path):
    settings.TRAINING_EXPORT_DIR = tmp_path

    # The test settings run tasks eagerly: the enqueue runs the export here.
    response = admin_client.post(EXPORT_URL, follow=True)

    newest = TrainingSnapshot.objects.first()
    assert newest != snapshot and newest.created_by == admin_user
    assert EXPORT_QUEUED.format(key=newest.snapshot_key) in response.content.decode()


def test_export_button_is_post_only(admin_client):
    assert admin_client.get(EXPORT_URL).status_code == 405


def test_staff_without_the_export_permission_cannot_start_one(
    django_user_model, django_capture_on_commit_callbacks
):
    staff = django_user_model.objects.create_user("staff@example.com", "pw", is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="view_trainingsnapshot"))
    browser = Client()
    browser.force_login(staff, backend="consent.backends.ConsentStandingBackend")

    with django_capture_on_commit_callbacks() as callbacks:
        response = browser.post(EXPORT_URL)

    assert response.status_code == 403
    assert callbacks == []


def test_ledger_detail_never_shows_the_kept_title(admin_client, snapshot):
    use = TrainingUse.objects.get()
    assert use.conversation_title

    page = admin_client.get(reverse("admin:training_traininguse_change", args=[use.pk]))

    assert page.status_code == 200
    assert use.conversation_title not in page.content.decode()


def test_export_button_is_shown_to_staff_allowed_to_export(admin_client):
    page = admin_client.get(reverse("admin:training_trainingsnapshot_changelist"))

    assert "Export a new snapshot" in page.content.decode()


def test_a_running_export_shows_its_shards_done_on_the_snapshot_list_and_its_page(
    admin_client, person, decide, chat, clock
):
    alice = person()
    decide.opt_in(alice)
    for _ in range(3):
        chat(alice)
    export = snapshot_export_plan(snapshot_key="running-now", shard_size=1)
    snapshot_shard_write(shard_id=export.shards.first().pk)

    listed = admin_client.get(reverse("admin:training_trainingsnapshot_changelist"))
    page = admin_client.get(reverse("admin:training_snapshotexport_change", args=[export.pk]))

    assert "running-now" in listed.content.decode()
    assert "1/3" in listed.content.decode()
    assert page.status_code == 200 and "1/3" in page.content.decode()
