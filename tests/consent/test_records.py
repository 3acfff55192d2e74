"""Decisions become exactly one immutable, chained record (DESIGN §4 rule 4)."""

from datetime import timedelta

import pytest
from django.core import signing
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from consent import errors
from consent.models import ConsentRecord, ModalVariant, UserConsentState
from consent.selectors import current_policy
from consent.services import (
    FORM_SALT,
    consent_chains_verify,
    consent_record_build,
    decision_form_issue,
)

from .conftest import form_token
from .factories import PolicyFactory

pytestmark = pytest.mark.django_db


def decide(client, decision: str, **extra):
    return client.post(
        reverse("consent:decide"), {"form_token": form_token(client), "decision": decision, **extra}
    )


def test_accept_on_the_default_on_toggle_design_opts_in_without_touching_it(
    client, new_user, use_variant
):
    use_variant("accept_toggle_on")
    client.force_login(new_user)
    token = form_token(client)

    # A browser submits a checked checkbox as "on": accepting as shown sends it.
    client.post(
        reverse("consent:decide"), {"form_token": token, "decision": "accept", "training": "on"}
    )

    record = ConsentRecord.objects.get()
    assert record.choice == "opt_in"
    assert record.toggle_default is True
    assert record.toggle_touched is False
    assert record.surface == "first_login"
    assert record.variant.key == "accept_toggle_on"
    assert record.shown["toggle_default"] is True


def test_switching_the_toggle_off_then_accepting_opts_out(client, new_user, use_variant):
    use_variant("accept_toggle_on")
    client.force_login(new_user)

    decide(client, "accept")  # unchecked checkbox: no "training" field

    record = ConsentRecord.objects.get()
    assert record.choice == "opt_out"
    assert record.toggle_touched is True


def test_default_off_toggle_accepting_untouched_opts_out(client, new_user, use_variant):
    use_variant("accept_toggle_off")
    client.force_login(new_user)

    decide(client, "accept")

    assert ConsentRecord.objects.get().choice == "opt_out"


@pytest.mark.parametrize("decision", ["opt_in", "opt_out"])
def test_two_button_design_records_the_pressed_button(client, new_user, use_variant, decision):
    use_variant("two_buttons")
    client.force_login(new_user)

    decide(client, decision, learn_more_opened="1")

    record = ConsentRecord.objects.get()
    assert record.choice == decision
    assert record.toggle_default is None
    assert record.learn_more_opened is True


def test_record_keeps_request_context_without_the_raw_ip(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)

    client.post(
        reverse("consent:decide"),
        {"form_token": token, "decision": "opt_in"},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="TestBrowser/1.0",
        HTTP_ACCEPT_LANGUAGE="de",
    )

    record = ConsentRecord.objects.get()
    assert record.ip_hash and "203.0.113.9" not in record.ip_hash
    assert record.user_agent == "TestBrowser/1.0"
    assert record.shown_at <= record.decided_at


def test_state_is_written_with_the_record(client, new_user, use_variant, policy):
    use_variant("two_buttons")
    client.force_login(new_user)

    decide(client, "opt_in")

    state = UserConsentState.objects.get(user=new_user)
    assert state.latest_record == ConsentRecord.objects.get()
    assert (state.choice, state.policy) == ("opt_in", policy)


def test_double_submit_of_one_form_records_once_and_lands_on_the_same_page(
    client, new_user, use_variant
):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    data = {"form_token": token, "decision": "opt_in", "next": "/conversations/"}

    first = client.post(reverse("consent:decide"), data)
    second = client.post(reverse("consent:decide"), data)

    assert ConsentRecord.objects.count() == 1
    assert first.status_code == second.status_code == 302
    assert first["Location"] == second["Location"]


def test_replayed_form_with_another_answer_is_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    assert response.status_code == 409
    assert str(errors.FORM_ALREADY_USED) in response.content.decode()
    assert ConsentRecord.objects.get().choice == "opt_in"


def test_chain_links_each_record_to_the_previous_one(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")
    client.post(
        reverse("consent:privacy_change"),
        {"form_token": _settings_token(client), "decision": "opt_out"},
    )

    first, second = ConsentRecord.objects.order_by("decided_at")
    assert second.previous == first
    assert list(consent_chains_verify()) == []


def _settings_token(client) -> str:
    from .conftest import TOKEN_RE

    return TOKEN_RE.search(client.get(reverse("consent:privacy_settings")).content.decode()).group(
        1
    )


# Bad input: a clear 4xx, nothing recorded.


@pytest.mark.parametrize("decision", ["maybe", "opt_in'; --", "", "accept"])
def test_choice_outside_the_enum_is_refused(client, new_user, use_variant, decision):
    use_variant("two_buttons")
    client.force_login(new_user)

    response = decide(client, decision)

    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


def test_tampered_form_token_is_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)

    response = client.post(
        reverse("consent:decide"), {"form_token": token[:-2] + "xx", "decision": "opt_in"}
    )

    assert response.status_code == 400
    assert str(errors.FORM_TAMPERED) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_form_issued_for_a_variant_not_offered_is_refused(client, new_user, use_variant):
    chosen = use_variant("two_buttons")
    chosen.surfaces = ["settings"]
    chosen.save(update_fields=["surfaces"])
    client.force_login(new_user)
    forged = signing.dumps(
        {
            "k": "f" * 32,
            "u": new_user.pk,
            "p": ConsentRecord._meta.get_field("policy").related_model.objects.get().version,
            "s": "first_login",
            "v": "two_buttons",
            "d": chosen.snapshot_digest(),
            "a": None,
            "t": timezone.now().isoformat(),
        },
        salt=FORM_SALT,
        compress=True,
    )

    response = client.post(reverse("consent:decide"), {"form_token": forged, "decision": "opt_in"})

    assert response.status_code == 400
    assert str(errors.VARIANT_NOT_OFFERED) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_form_of_another_user_is_refused(client, new_user, use_variant, django_user_model):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    intruder = django_user_model.objects.create_user("intruder@example.com", "x-correct-horse")
    client.force_login(intruder)

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_decision_for_a_superseded_policy_is_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    PolicyFactory(
        version="2099-01",
        effective_at=timezone.now(),
        decision_deadline=timezone.now() + timedelta(days=9),
    )

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 409
    assert str(errors.POLICY_SUPERSEDED) in response.content.decode()
    assert not ConsentRecord.objects.exists()


def test_missing_csrf_token_is_refused(new_user, use_variant):
    use_variant("two_buttons")
    client = Client(enforce_csrf_checks=True)
    client.force_login(new_user)
    token = form_token(client)

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 403
    assert not ConsentRecord.objects.exists()


def test_oversized_body_is_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)

    response = client.post(
        reverse("consent:decide"), {"form_token": "x" * 300_000, "decision": "opt_in"}
    )

    assert response.status_code == 400
    assert not ConsentRecord.objects.exists()


# Immutability.


def test_orm_update_of_a_record_is_refused_by_the_database(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")

    with pytest.raises(DatabaseError), transaction.atomic():
        ConsentRecord.objects.update(choice="opt_out")

    assert ConsentRecord.objects.get().choice == "opt_in"


def test_raw_sql_delete_of_a_record_is_refused_by_the_database(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")
    table = ConsentRecord._meta.db_table

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"DELETE FROM {table}")

    assert ConsentRecord.objects.count() == 1


def test_verify_command_names_a_tampered_record(client, new_user, use_variant, capsys):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")
    record = ConsentRecord.objects.get()
    _tamper(record, choice="opt_out")

    with pytest.raises(CommandError):
        call_command("verify_consent_chain")

    assert str(record.pk) in capsys.readouterr().err


def test_verify_command_passes_on_untouched_chains(client, new_user, use_variant, capsys):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")

    call_command("verify_consent_chain")

    assert "verifies" in capsys.readouterr().out


def _tamper(record: ConsentRecord, **changes) -> None:
    """Simulate an attacker with database-owner rights: lift the trigger, edit, restore it."""
    from consent.db import _statements

    table = ConsentRecord._meta.db_table
    create, drop = _statements(connection.vendor, table)
    with connection.cursor() as cursor:
        for sql in drop:
            cursor.execute(sql)
        sets = ", ".join(f"{column} = %s" for column in changes)
        cursor.execute(
            f"UPDATE {table} SET {sets} WHERE id = %s",
            [*changes.values(), record.pk.hex if connection.vendor == "sqlite" else record.pk],
        )
        for sql in create:
            cursor.execute(sql)


# --- The copy a record freezes is the copy the form was rendered with --------------------


def test_a_form_rendered_before_the_wording_changed_is_refused(client, new_user, use_variant):
    design = use_variant("two_buttons")
    client.force_login(new_user)
    token = form_token(client)
    design.headline = "Reworded while the form was open"
    design.save(update_fields=["headline"])

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 409
    assert str(errors.DESIGN_CHANGED) in response.content.decode()
    assert not ConsentRecord.objects.exists()
    decide(client, "opt_in")  # a freshly rendered form records the new wording
    assert ConsentRecord.objects.get().shown["headline"] == "Reworded while the form was open"


def test_a_form_rendered_by_a_process_with_newer_wording_records_that_wording(
    client, new_user, use_variant
):
    design = use_variant("two_buttons")
    client.force_login(new_user)
    form_token(client)  # this process's memo of designs now holds the old wording
    # Another process's edit: no signal reaches this process's memo.
    ModalVariant.objects.filter(pk=design.pk).update(headline="Newer wording")
    newer = ModalVariant.objects.get(pk=design.pk)
    token = decision_form_issue(
        user=new_user, policy=current_policy(), surface="first_login", variant=newer
    ).token()

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})

    assert response.status_code == 302
    assert ConsentRecord.objects.get().shown["headline"] == "Newer wording"


def test_a_form_without_the_design_fingerprint_is_refused(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    data = signing.loads(form_token(client), salt=FORM_SALT)
    del data["d"]
    token = signing.dumps(data, salt=FORM_SALT, compress=True)

    response = client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    assert response.status_code == 409
    assert not ConsentRecord.objects.exists()


def test_the_database_refuses_a_second_chain_start_for_a_user(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    decide(client, "opt_in")
    first = ConsentRecord.objects.get()
    fork = consent_record_build(
        user_id=new_user.pk,
        policy=first.policy,
        choice="opt_out",
        surface="settings",
        shown_at=first.decided_at,
        decided_at=first.decided_at,
        form_key="f" * 32,
        previous=None,  # a second genesis: two chains for one person
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        fork.save(force_insert=True)

    assert ConsentRecord.objects.count() == 1
