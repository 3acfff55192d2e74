"""What was shown, kept exactly: every rendering of a consent surface is a ServedNotice, its
dialog a content-addressed ShownCopy, and decisions and "Not now" link to the serving they
answered (issue 12, DESIGN §3)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.contrib.auth.models import Group
from django.db import DatabaseError, connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.roles import PRIVACY_OFFICER, PRODUCT_ANALYST, SUPPORT
from config.memo import ProcessMemo
from consent import errors
from consent.chain import chain_verify_user
from consent.models import (
    ConsentRecord,
    ModalVariant,
    NoticeDeferral,
    ServedNotice,
    ShownCopy,
    Surface,
)
from consent.services import consent_chains_verify, consent_decision_record, decision_form_issue
from consent.shown import shown_digest, shown_html
from consent.verification import evidence_verify
from tests.factories import UserFactory

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

PRODUCT_URL = reverse("conversations:list")
DIALOG_RE = re.compile(r"<dialog class=\"consent-modal.*?</dialog>", re.S)
SETTINGS_RE = re.compile(r"<section aria-labelledby=\"training-heading\".*?</section>", re.S)


def _token(html: str) -> str:
    return TOKEN_RE.search(html).group(1)


def _decided(client, user, use_variant) -> None:
    use_variant("two_buttons")
    client.force_login(user)
    token = _token(client.get(reverse("consent:decide")).content.decode())
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_out"})


# --- Every consent surface, every rendering -------------------------------------------------


def test_the_first_login_screen_is_kept_with_its_design_policy_and_language(
    client, new_user, policy, use_variant
):
    design = use_variant("accept_toggle_on")
    client.force_login(new_user)

    client.get(reverse("consent:decide"), HTTP_ACCEPT_LANGUAGE="en")

    serving = ServedNotice.objects.get()
    assert (serving.user, serving.surface, serving.policy, serving.variant) == (
        new_user,
        Surface.FIRST_LOGIN,
        policy,
        design,
    )
    assert serving.arm is None
    assert serving.language == "en"
    assert design.headline in serving.shown_copy.html


def test_the_notice_over_the_product_is_kept(client, existing_user, policy, use_variant):
    use_variant("two_buttons")
    client.force_login(existing_user)

    client.get(PRODUCT_URL)

    assert ServedNotice.objects.get().surface == Surface.EXISTING_NOTICE


def test_the_deadline_gate_is_kept(client, existing_user, policy, use_variant):
    use_variant("two_buttons")
    with time_machine.travel(policy.decision_deadline + timedelta(days=1)):
        client.force_login(existing_user)
        client.get(reverse("consent:decide"))

    assert ServedNotice.objects.get().surface == Surface.DEADLINE_GATE


def test_the_privacy_settings_change_form_is_kept(client, new_user, use_variant):
    _decided(client, new_user, use_variant)

    client.get(reverse("consent:privacy_settings"))

    serving = ServedNotice.objects.filter(surface=Surface.SETTINGS).get()
    assert serving.variant is None
    assert "Turn on training use" in serving.shown_copy.html


def test_read_only_privacy_settings_offer_no_decision_and_keep_no_serving(client, new_user):
    client.force_login(new_user)  # undecided: the gate blocks, settings are read-only

    client.get(reverse("consent:privacy_settings"))

    assert not ServedNotice.objects.exists()


def test_each_rendering_is_its_own_serving(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)

    client.get(reverse("consent:decide"))
    client.get(reverse("consent:decide"))

    assert ServedNotice.objects.count() == 2


# --- The shown copy: exactly what was seen ---------------------------------------------------


def test_the_shown_copy_is_the_dialog_as_sent_with_only_hidden_values_blanked(
    client, new_user, use_variant
):
    use_variant("accept_toggle_on")
    client.force_login(new_user)

    page = client.get(reverse("consent:decide")).content.decode()

    sent = DIALOG_RE.search(page).group(0)
    stored = ServedNotice.objects.get().shown_copy
    assert stored.html == shown_html(sent)
    assert stored.digest == shown_digest(stored.html)
    # Every visible character is kept: only the values of hidden inputs differ.
    assert re.sub(r'value="[^"]*"', "", stored.html) == re.sub(r'value="[^"]*"', "", sent)
    assert _token(sent) not in stored.html


def test_the_settings_shown_copy_is_the_section_as_sent(client, new_user, use_variant):
    _decided(client, new_user, use_variant)

    page = client.get(reverse("consent:privacy_settings")).content.decode()

    sent = SETTINGS_RE.search(page).group(0)
    assert ServedNotice.objects.get(surface=Surface.SETTINGS).shown_copy.html == shown_html(sent)


def test_equal_dialogs_are_stored_once_whoever_sees_them(
    new_user, existing_user, policy, use_variant, django_user_model
):
    use_variant("two_buttons")
    other = django_user_model.objects.create_user("other@example.com", "x-correct-horse")
    for user in (new_user, other, new_user):
        client = Client()
        client.force_login(user)
        client.get(reverse("consent:decide"))

    assert ServedNotice.objects.count() == 3
    assert ShownCopy.objects.count() == 1


def test_a_visible_change_to_the_design_is_another_shown_copy(client, new_user, use_variant):
    design = use_variant("two_buttons")
    client.force_login(new_user)
    client.get(reverse("consent:decide"))

    ModalVariant.objects.filter(pk=design.pk).update(headline="A reworded question")
    ProcessMemo.forget_all()  # update() bypasses the signals that clear the design memo
    client.get(reverse("consent:decide"))

    first, second = ServedNotice.objects.order_by("served_at")
    assert first.shown_copy_id != second.shown_copy_id
    assert "A reworded question" in second.shown_copy.html


def test_a_dialog_known_to_be_stored_costs_no_second_insert(
    client, new_user, use_variant, django_capture_on_commit_callbacks
):
    use_variant("two_buttons")
    client.force_login(new_user)
    with django_capture_on_commit_callbacks(execute=True):
        client.get(reverse("consent:decide"))

    with CaptureQueriesContext(connection) as queries:
        client.get(reverse("consent:decide"))

    # The serving is written (on PostgreSQL as the EXECUTE of a kept plan), its copy is not
    assert ServedNotice.objects.count() == 2
    assert not [q for q in queries if ShownCopy._meta.db_table in q["sql"]]


# --- Decisions and "Not now" link to what they answered --------------------------------------


def test_a_decision_links_to_the_serving_it_answered_and_what_it_showed(
    client, new_user, use_variant
):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = _token(client.get(reverse("consent:decide")).content.decode())
    client.get(reverse("consent:decide"))  # a later rendering, not the one answered

    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})

    record = ConsentRecord.objects.get()
    answered = ServedNotice.objects.order_by("served_at").first()
    assert record.served_notice == answered
    assert record.shown_copy_id == answered.shown_copy_id
    assert record.shown_at == answered.served_at


def test_a_settings_decision_links_to_the_settings_form_it_answered(client, new_user, use_variant):
    _decided(client, new_user, use_variant)
    token = _token(client.get(reverse("consent:privacy_settings")).content.decode())

    client.post(reverse("consent:privacy_change"), {"form_token": token, "decision": "opt_in"})

    record = ConsentRecord.objects.get(surface=Surface.SETTINGS)
    assert record.served_notice.surface == Surface.SETTINGS
    assert "Turn on training use" in record.shown_copy.html


def test_not_now_links_to_the_notice_it_answered(client, existing_user, policy, use_variant):
    use_variant("two_buttons")
    client.force_login(existing_user)
    token = _token(client.get(PRODUCT_URL).content.decode())

    client.post(reverse("consent:defer"), {"form_token": token})

    deferral = NoticeDeferral.objects.get()
    assert deferral.served_notice == ServedNotice.objects.get()


def test_the_serving_and_what_it_showed_are_part_of_the_records_hash(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    token = _token(client.get(reverse("consent:decide")).content.decode())
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "opt_in"})
    record = ConsentRecord.objects.get()
    other_copy = ShownCopy.objects.create(
        digest="0" * 64, html="<p>forged</p>", created_at=record.decided_at
    )

    record.shown_copy_id = other_copy.digest  # in memory: what a rewrite would store

    assert chain_verify_user([ConsentRecord.objects.get()]) == []
    assert chain_verify_user([record]) != []


def test_a_decision_with_its_serving_passes_every_verification(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)
    _decided(client, new_user, use_variant)
    token = _token(client.get(reverse("consent:privacy_settings")).content.decode())
    client.post(reverse("consent:privacy_change"), {"form_token": token, "decision": "opt_in"})

    assert ConsentRecord.objects.filter(served_notice__isnull=False).count() == 2
    assert list(consent_chains_verify()) == []
    assert [str(f) for f in evidence_verify().findings] == []


def _serving_of(user, policy) -> ServedNotice:
    client = Client()
    client.force_login(user)
    client.get(reverse("consent:decide"))
    return ServedNotice.objects.get(user=user)


def test_a_form_naming_another_persons_serving_is_refused(
    client, new_user, policy, use_variant, django_user_model
):
    design = use_variant("two_buttons")
    victim = django_user_model.objects.create_user("victim@example.com", "x-correct-horse")
    their_serving = _serving_of(victim, policy)
    forged = decision_form_issue(
        user=new_user,
        policy=policy,
        surface=Surface.FIRST_LOGIN,
        variant=design,
        served_id=their_serving.pk,
    )
    client.force_login(new_user)

    response = client.post(
        reverse("consent:decide"), {"form_token": forged.token(), "decision": "opt_in"}
    )

    assert response.status_code == 403
    assert str(errors.FORM_OTHER_USER).encode() in response.content
    assert not ConsentRecord.objects.exists()


def test_a_not_now_naming_another_persons_serving_is_refused(
    client, existing_user, policy, use_variant, django_user_model
):
    design = use_variant("two_buttons")
    victim = django_user_model.objects.create_user("victim@example.com", "x-correct-horse")
    their_serving = _serving_of(victim, policy)
    forged = decision_form_issue(
        user=existing_user,
        policy=policy,
        surface=Surface.EXISTING_NOTICE,
        variant=design,
        served_id=their_serving.pk,
    )
    client.force_login(existing_user)

    response = client.post(reverse("consent:defer"), {"form_token": forged.token()})

    assert response.status_code == 403
    assert not NoticeDeferral.objects.exists()


def test_a_decision_naming_no_serving_links_to_none(new_user, policy, use_variant):
    design = use_variant("two_buttons")

    record = consent_decision_record(
        user=new_user,
        policy=policy,
        choice="opt_in",
        surface=Surface.FIRST_LOGIN,
        form_key="k" * 32,
        shown_at=policy.effective_at,
        variant=design,
    ).record

    assert record.served_notice is None and record.shown_copy is None
    assert chain_verify_user([record]) == []


# --- Append-only below the ORM -------------------------------------------------------------


@pytest.mark.parametrize("model", [ServedNotice, ShownCopy])
@pytest.mark.parametrize(
    "statement", ["UPDATE {table} SET {column} = {column}", "DELETE FROM {table}"]
)
def test_servings_and_shown_copies_cannot_be_changed_or_removed(
    client, new_user, use_variant, model, statement
):
    use_variant("two_buttons")
    client.force_login(new_user)
    client.get(reverse("consent:decide"))
    table, column = model._meta.db_table, model._meta.pk.column

    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement.format(table=table, column=column))

    assert model.objects.count() == 1


# --- "Show me exactly what this person saw" -----------------------------------------------


def _decision_with_copy(client, user, use_variant) -> ConsentRecord:
    use_variant("accept_toggle_on")
    client.force_login(user)
    token = _token(client.get(reverse("consent:decide")).content.decode())
    client.post(reverse("consent:decide"), {"form_token": token, "decision": "accept"})
    return ConsentRecord.objects.get(user=user)


def _staff(role: str | None):
    user = UserFactory(is_staff=True, date_joined=timezone.now() - timedelta(days=400))
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


def test_a_person_reads_exactly_what_they_were_shown(client, new_user, use_variant):
    record = _decision_with_copy(client, new_user, use_variant)

    response = client.get(reverse("consent:receipt_shown", args=[record.pk]))

    assert response.status_code == 200
    page = response.content.decode()
    assert record.variant.headline in page
    assert record.variant.toggle_label in page
    assert record.shown_copy_id in page


def test_the_shown_copy_page_cannot_submit_or_run_anything(client, new_user, use_variant):
    record = _decision_with_copy(client, new_user, use_variant)

    response = client.get(reverse("consent:receipt_shown", args=[record.pk]))

    shown = re.search(
        r"<div class=\"shown-copy\".*?</div>\s*<p><a", response.content.decode(), re.S
    )
    dialog = shown.group(0)
    assert "<form" in dialog  # the form as it was, but inert:
    assert not re.search(r"\s(action|formaction|hx-post|hx-get)=", dialog)
    buttons = re.findall(r"<button\b[^>]*>", dialog)
    assert buttons and all(" disabled" in b for b in buttons)
    policy = response["Content-Security-Policy"]
    assert "form-action 'none'" in policy
    assert "script-src 'none'" in policy
    assert "<script" not in response.content.decode()


def test_nobody_reads_another_persons_shown_copy(client, new_user, use_variant, django_user_model):
    record = _decision_with_copy(client, new_user, use_variant)
    other = django_user_model.objects.create_user("other@example.com", "x-correct-horse")
    client.force_login(other)

    response = client.get(reverse("consent:receipt_shown", args=[record.pk]))

    assert response.status_code == 404


def test_a_record_from_before_copies_were_kept_says_so(new_user, policy, use_variant):
    design = use_variant("two_buttons")
    record = consent_decision_record(
        user=new_user,
        policy=policy,
        choice="opt_in",
        surface=Surface.FIRST_LOGIN,
        form_key="k" * 32,
        shown_at=policy.effective_at,
        variant=design,
    ).record
    client = Client()
    client.force_login(new_user)

    response = client.get(reverse("consent:receipt_shown", args=[record.pk]))

    assert response.status_code == 404


@pytest.mark.parametrize(
    ("role", "status"), [(PRIVACY_OFFICER, 200), (SUPPORT, 200), (PRODUCT_ANALYST, 403)]
)
def test_staff_who_may_read_the_record_open_what_was_shown_from_admin(
    client, new_user, use_variant, role, status
):
    record = _decision_with_copy(Client(), new_user, use_variant)
    client.force_login(_staff(role))

    change = client.get(reverse("admin:consent_consentrecord_change", args=[record.pk]))
    response = client.get(reverse("admin:consent_consentrecord_shown", args=[record.pk]))

    assert response.status_code == status
    if status == 200:
        shown_url = reverse("admin:consent_consentrecord_shown", args=[record.pk])
        assert shown_url in change.content.decode()
        assert record.variant.headline in response.content.decode()
        assert "form-action 'none'" in response["Content-Security-Policy"]
