"""Renderings of the decision screen written behind the request (config.durability,
``consent.services.surfaces.servings_behind``): the request writes no serving, a thread of
the process writes them together, and a decision or "Not now" that comes first inserts its
serving from its signed form, so nothing recorded ever points at a missing rendering."""

import dataclasses
import logging
import time
import uuid

import pytest
from django.db import OperationalError
from django.test import Client
from django.urls import reverse

from config.durability import RowsWrittenBehind
from consent import errors
from consent.chain import chain_verify_user
from consent.models import ConsentRecord, NoticeDeferral, ServedNotice, ShownCopy, Surface
from consent.services import (
    decision_form_issue,
    decision_form_load,
    served_notice_record,
    shown_copy_store,
    surfaces,
)

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

WINDOW = "CONSENT_SERVINGS_WRITE_BEHIND_SECONDS"
# What a serving is, field by field: whoever writes it, the row must be the same.
SERVING_FIELDS = [
    "id",
    "user_id",
    "surface",
    "policy_id",
    "variant_id",
    "arm_id",
    "language",
    "requested_language",
    "copy_digest",
    "served_at",
    "shown_copy_id",
]


@pytest.fixture
def behind(settings, monkeypatch):
    """A writer of the test's own whose thread never starts: the test says when it writes
    (``flush``), inside the test's transaction."""
    settings.CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = 3600
    writer = RowsWrittenBehind(ServedNotice, window_setting=WINDOW, limit=3)
    monkeypatch.setattr(writer, "_writer_start", lambda: None)
    monkeypatch.setattr(surfaces, "servings_behind", writer)
    return writer


def rendered_form(client, user):
    client.force_login(user)
    page = client.get(reverse("consent:decide")).content.decode()
    return decision_form_load(TOKEN_RE.search(page).group(1), user=user)


def serving_for(user, policy) -> ServedNotice:
    """A serving as a screen hands it over, without a design: transactional tests flush the
    designs a data migration seeded."""
    form = decision_form_issue(
        user=user, policy=policy, surface=Surface.SETTINGS, variant=None, served_id=uuid.uuid4()
    )
    digest = shown_copy_store("<section>Training</section>")
    return surfaces.serving_of(form, policy=policy, variant=None, arm=None, shown_copy_id=digest)


def fields(row) -> dict:
    return {name: getattr(row, name) for name in SERVING_FIELDS}


def held(writer) -> list[ServedNotice]:
    with writer._lock:
        return list(writer._rows)


def test_the_screen_is_sent_before_its_serving_is_written(client, new_user, use_variant, behind):
    use_variant("two_buttons")

    form = rendered_form(client, new_user)

    assert not ServedNotice.objects.exists()
    assert behind.pending() == 1
    # The form names what it showed, which is stored before the screen is sent.
    assert ShownCopy.objects.filter(pk=form.shown_copy_id).exists()
    assert behind.flush() == 1
    serving = ServedNotice.objects.get()
    assert (serving.pk, serving.user_id) == (form.served_id, new_user.pk)
    assert serving.shown_copy_id == form.shown_copy_id
    assert serving.served_at == form.shown_at
    assert behind.pending() == 0


def test_a_decision_before_the_writer_inserts_the_serving_its_form_describes(
    client, new_user, use_variant, behind
):
    use_variant("two_buttons")
    form = rendered_form(client, new_user)
    expected = fields(held(behind)[0])

    response = client.post(
        reverse("consent:decide"), {"form_token": form.token(), "decision": "opt_in"}
    )

    assert response.status_code in (200, 302, 303)
    record = ConsentRecord.objects.get()
    assert record.served_notice_id == form.served_id
    assert record.shown_copy_id == form.shown_copy_id
    assert fields(ServedNotice.objects.get()) == expected
    # The writer's insert comes second and changes nothing.
    assert behind.flush() == 1
    assert fields(ServedNotice.objects.get()) == expected
    assert chain_verify_user([record]) == []


def test_a_decision_after_the_writer_links_to_the_written_serving(
    client, new_user, use_variant, behind
):
    use_variant("two_buttons")
    form = rendered_form(client, new_user)
    behind.flush()

    client.post(reverse("consent:decide"), {"form_token": form.token(), "decision": "opt_out"})

    assert ConsentRecord.objects.get().served_notice_id == form.served_id
    assert ServedNotice.objects.count() == 1


def test_a_not_now_before_the_writer_inserts_the_serving_its_form_describes(
    client, existing_user, policy, use_variant, behind
):
    use_variant("two_buttons")
    form = rendered_form(client, existing_user)
    assert form.surface == Surface.EXISTING_NOTICE
    expected = fields(held(behind)[0])

    client.post(reverse("consent:defer"), {"form_token": form.token()})

    assert NoticeDeferral.objects.get().served_notice_id == form.served_id
    assert fields(ServedNotice.objects.get()) == expected
    assert behind.flush() == 1
    assert ServedNotice.objects.count() == 1


def test_a_missing_serving_a_form_cannot_describe_is_refused(client, new_user, policy, use_variant):
    """A form from before forms carried what they showed, whose serving is not there (lost
    with a database crash): nothing can say what it showed, so nothing is recorded."""
    design = use_variant("two_buttons")
    form = decision_form_issue(
        user=new_user,
        policy=policy,
        surface=Surface.FIRST_LOGIN,
        variant=design,
        served_id=uuid.uuid4(),
    )
    client.force_login(new_user)

    response = client.post(
        reverse("consent:decide"), {"form_token": form.token(), "decision": "opt_in"}
    )

    assert response.status_code == 403
    assert str(errors.FORM_OTHER_USER).encode() in response.content
    assert not ConsentRecord.objects.exists() and not ServedNotice.objects.exists()


def test_a_serving_written_behind_needs_a_form_that_names_what_it_showed(new_user, policy):
    form = decision_form_issue(
        user=new_user, policy=policy, surface=Surface.SETTINGS, variant=None, served_id=uuid.uuid4()
    )

    with pytest.raises(ValueError, match="carrying what it showed"):
        served_notice_record(
            form=form,
            policy=policy,
            variant=None,
            arm=None,
            rendered="<section>Training</section>",
            written_behind=True,
        )


# Foreign keys are checked at commit: these writes commit as the writer's do.
@pytest.mark.django_db(transaction=True)
def test_a_row_the_database_refuses_is_dropped_alone_and_logged(
    new_user, existing_user, policy, behind, caplog
):
    gone, kept = serving_for(existing_user, policy), serving_for(new_user, policy)
    behind.add(gone)
    behind.add(kept)
    existing_user.delete()  # nothing of theirs was written yet: nothing protects them

    with caplog.at_level(logging.ERROR, logger="config.durability"):
        assert behind.flush() == 1

    assert list(ServedNotice.objects.values_list("pk", flat=True)) == [kept.pk]
    assert [r.pk for r in caplog.records] == [str(gone.pk)]
    assert behind.pending() == 0


def _outage_once(monkeypatch):
    manager = ServedNotice.objects
    real = manager.bulk_create
    calls = []

    def bulk_create(*args, **kwargs):
        calls.append(args)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return real(*args, **kwargs)

    monkeypatch.setattr(manager, "bulk_create", bulk_create)
    return calls


def test_an_outage_keeps_the_rows_for_the_next_flush(
    client, new_user, use_variant, behind, monkeypatch, caplog
):
    use_variant("two_buttons")
    forms = [rendered_form(client, new_user) for _ in range(2)]
    _outage_once(monkeypatch)

    with caplog.at_level(logging.WARNING, logger="config.durability"):
        assert behind.flush() == 0

    assert behind.pending() == 2 and not ServedNotice.objects.exists()
    assert "kept for the next attempt" in caplog.text
    assert behind.flush() == 2
    assert set(ServedNotice.objects.values_list("pk", flat=True)) == {f.served_id for f in forms}


def test_past_the_limit_the_oldest_rows_go_first(
    client, new_user, use_variant, behind, monkeypatch, caplog
):
    use_variant("two_buttons")
    forms = [rendered_form(client, new_user) for _ in range(4)]  # the limit is 3
    _outage_once(monkeypatch)

    with caplog.at_level(logging.ERROR, logger="config.durability"):
        behind.flush()

    assert [row.pk for row in held(behind)] == [f.served_id for f in forms[1:]]
    assert "the oldest were dropped" in caplog.text


@pytest.mark.django_db(transaction=True)
def test_an_outage_while_finding_a_refused_row_keeps_the_rest(
    new_user, existing_user, policy, behind, monkeypatch
):
    behind.add(serving_for(existing_user, policy))
    kept = [serving_for(new_user, policy) for _ in range(2)]
    for serving in kept:
        behind.add(serving)
    existing_user.delete()
    manager = ServedNotice.objects
    real = manager.bulk_create
    calls = []

    def bulk_create(rows, **kwargs):
        calls.append(rows)
        if len(calls) == 3:  # the batch, the refused row, then an outage
            raise OperationalError("server closed the connection unexpectedly")
        return real(rows, **kwargs)

    monkeypatch.setattr(manager, "bulk_create", bulk_create)

    assert behind.flush() == 0
    assert [row.pk for row in held(behind)] == [serving.pk for serving in kept]
    assert behind.flush() == 2


def test_stopping_writes_what_is_held(client, new_user, use_variant, behind):
    use_variant("two_buttons")
    form = rendered_form(client, new_user)

    assert behind.stop() == 1

    assert ServedNotice.objects.get().pk == form.served_id


def test_a_forked_process_leaves_its_parents_rows_to_the_parent(
    client, new_user, use_variant, behind
):
    use_variant("two_buttons")
    rendered_form(client, new_user)
    behind._pid = -1  # as a child sees its parent's writer

    form = rendered_form(client, new_user)

    assert [row.pk for row in held(behind)] == [form.served_id]


def test_with_no_window_the_serving_is_written_during_its_request(
    client, new_user, use_variant, settings
):
    settings.CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = 0
    use_variant("two_buttons")

    form = rendered_form(client, new_user)

    assert ServedNotice.objects.get().pk == form.served_id
    assert surfaces.servings_behind.pending() == 0


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_writes_within_its_window_and_stops(new_user, policy, settings):
    settings.CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = 0.05
    writer = RowsWrittenBehind(ServedNotice, window_setting=WINDOW)
    serving = serving_for(new_user, policy)
    try:
        writer.add(serving)
        thread = writer._thread
        deadline = time.monotonic() + 10
        while not ServedNotice.objects.filter(pk=serving.pk).exists():
            assert time.monotonic() < deadline, "the writer wrote nothing within 10 s"
            time.sleep(0.02)
        assert thread is not None and thread.is_alive()
    finally:
        writer.stop()
    assert not thread.is_alive()
    assert writer.pending() == 0


def test_the_writer_thread_outlives_a_failed_flush(settings, monkeypatch, caplog):
    settings.CONSENT_SERVINGS_WRITE_BEHIND_SECONDS = 0.01
    writer = RowsWrittenBehind(ServedNotice, window_setting=WINDOW)
    flushes = []

    def flush():
        flushes.append(1)
        if len(flushes) == 1:
            raise RuntimeError("a bug in one flush")
        return 0

    monkeypatch.setattr(writer, "flush", flush)
    monkeypatch.setattr(writer, "stop", lambda: None)  # atexit must not run the patched flush
    with caplog.at_level(logging.ERROR, logger="config.durability"):
        writer._writer_start()
        deadline = time.monotonic() + 10
        while len(flushes) < 3:
            assert time.monotonic() < deadline, "the writer stopped after a failed flush"
            time.sleep(0.01)
    writer._stopped.set()
    writer._thread.join(timeout=10)

    assert "a flush failed" in caplog.text
    assert not writer._thread.is_alive()


@pytest.mark.parametrize("answer", ["decide", "defer"])
def test_a_form_that_describes_a_serving_still_cannot_name_another_persons(
    client, existing_user, policy, use_variant, django_user_model, behind, answer
):
    """Forms carry their serving whole now: one naming someone else's (a server-signed
    form with a swapped id, as a forged one would need) is refused, not inserted."""
    use_variant("two_buttons")
    victim = django_user_model.objects.create_user(
        "victim@example.com",
        "x-correct-horse",
        date_joined=existing_user.date_joined,
        country="US",
    )
    theirs = rendered_form(Client(), victim)
    behind.flush()
    own = rendered_form(client, existing_user)
    forged = dataclasses.replace(own, served_id=theirs.served_id)

    response = client.post(
        reverse(f"consent:{answer}"), {"form_token": forged.token(), "decision": "opt_in"}
    )

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists() and not NoticeDeferral.objects.exists()
    assert ServedNotice.objects.get(pk=theirs.served_id).user_id == victim.pk
