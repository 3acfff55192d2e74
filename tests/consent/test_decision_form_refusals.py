"""A posted decision form is recorded only if it is exactly what this server issued to this
person for the live policy and design; anything else is refused with a reason and leaves
no record and no state behind (DESIGN §4 rule 4)."""

from datetime import timedelta

import pytest
import time_machine
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from consent import errors
from consent.copy import translations_memo
from consent.errors import ConsentError
from consent.models import (
    ConsentRecord,
    ModalVariant,
    ModalVariantTranslation,
    PolicyTranslation,
    UserConsentState,
)
from consent.selectors import current_policy
from consent.services import FORM_SALT, decision_form_issue, decision_form_load, translation_save

from .conftest import TOKEN_RE, form_token

pytestmark = pytest.mark.django_db

MISSING = object()


def _resigned(token: str, **changes) -> str:
    """The token's signed facts with ``changes`` (``MISSING`` drops a field), signed again
    with the server's key: a token no screen of this release issues, such as one from an
    older release still open in a tab, or one made with a leaked key."""
    data = signing.loads(token, salt=FORM_SALT)
    for name, value in changes.items():
        if value is MISSING:
            del data[name]
        else:
            data[name] = value
    return signing.dumps(data, salt=FORM_SALT, compress=True)


def _post(client, token: str, decision: str = "opt_in", **headers):
    return client.post(
        reverse("consent:decide"), {"form_token": token, "decision": decision}, **headers
    )


def _assert_refused(response, status: int, message) -> None:
    assert response.status_code == status
    assert str(message) in response.content.decode()
    assert not ConsentRecord.objects.exists()
    assert not UserConsentState.objects.exists()


@pytest.fixture
def deciding(client, new_user, use_variant):
    """A new user in front of the two-button decision screen."""
    use_variant("two_buttons")
    client.force_login(new_user)
    return client


def test_a_form_left_open_longer_than_a_day_is_refused_as_expired(deciding):
    token = form_token(deciding)

    with time_machine.travel(timezone.now() + timedelta(hours=25), tick=False):
        response = _post(deciding, token)

    _assert_refused(response, 400, errors.FORM_EXPIRED)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"k": MISSING}, id="no-form-key"),
        pytest.param({"u": "me"}, id="user-not-a-number"),
        pytest.param({"u": None}, id="user-null"),
        pytest.param({"n": "not-a-serving-id"}, id="serving-not-a-uuid"),
        pytest.param({"t": 1767225600}, id="shown-at-not-text"),
        pytest.param({"t": "2026-02-30T10:00:00+00:00"}, id="shown-at-no-such-day"),
    ],
)
def test_a_signed_form_whose_facts_do_not_parse_is_refused_as_tampered(deciding, changes):
    token = _resigned(form_token(deciding), **changes)

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


@pytest.mark.parametrize(
    "changes",
    [
        pytest.param({"s": "kiosk"}, id="surface-unknown"),
        pytest.param({"t": "yesterday"}, id="shown-at-not-a-time"),
    ],
)
def test_a_signed_form_naming_no_real_surface_or_time_is_refused_as_tampered(deciding, changes):
    token = _resigned(form_token(deciding), **changes)

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


def test_loading_a_form_checks_its_surface_itself(deciding, new_user):
    # The one place a posted token is verified: whatever a caller does next, a form it
    # hands back names a surface some consent screen really has.
    token = _resigned(form_token(deciding), s="kiosk")

    with pytest.raises(ConsentError) as refused:
        decision_form_load(token, user=new_user)

    assert (refused.value.code, refused.value.status) == ("form_tampered", 400)


def test_a_form_for_a_policy_version_that_does_not_exist_is_refused_as_tampered(deciding):
    token = _resigned(form_token(deciding), p="1999-01")

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


def test_a_form_naming_a_design_that_does_not_exist_is_refused_as_tampered(deciding):
    token = _resigned(form_token(deciding), v="retired_design")

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


def test_a_form_naming_an_experiment_arm_that_does_not_exist_is_refused_as_tampered(deciding):
    token = _resigned(form_token(deciding), a=2_000_000_000)

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


def test_a_decision_screen_form_without_a_design_is_refused_as_tampered(deciding, new_user):
    # Only privacy settings show no design; the decision screen's record must prove one.
    token = decision_form_issue(
        user=new_user, policy=current_policy(), surface="first_login", variant=None
    ).token()

    _assert_refused(_post(deciding, token), 400, errors.FORM_TAMPERED)


@pytest.mark.parametrize("decision", ["opt_in", "opt_out"])
def test_a_toggle_design_takes_only_accept_so_the_toggle_decides(
    client, new_user, use_variant, decision
):
    # The toggle design shows one button: a two-button answer posted to it would record a
    # choice the person never made on that screen.
    use_variant("accept_toggle_on")
    client.force_login(new_user)

    response = _post(client, form_token(client), decision)

    _assert_refused(response, 400, errors.INVALID_CHOICE)


# --- The policy's words in the language shown are the words the form was rendered with ---

GERMAN_DESIGN = {
    "headline": "Dürfen wir Ihre Chats verwenden, um unsere Modelle zu trainieren?",
    "body": "Sie können Ihre Entscheidung jederzeit in den Datenschutzeinstellungen ändern.",
    "accept_label": "Ja, verwenden",
    "decline_label": "Nein, nicht verwenden",
}
GERMAN_SUMMARY = "Sie können Ihre Einwilligung jederzeit widerrufen."
REWORDED_SUMMARY = "Sie können Ihre Einwilligung jederzeit und ohne Angabe von Gründen widerrufen."


@pytest.fixture
def in_german(policy):
    """The policy and the two-button design, both reviewed in German."""
    translation_save(
        ModalVariantTranslation(
            variant=ModalVariant.objects.get(key="two_buttons"),
            language="de",
            reviewed=True,
            **GERMAN_DESIGN,
        ),
        reviewer=None,
    )
    return translation_save(
        PolicyTranslation(
            policy=policy,
            language="de",
            title="Datenrichtlinie",
            summary=GERMAN_SUMMARY,
            body="Volltext.",
            reviewed=True,
        ),
        reviewer=None,
    )


def _german_token(client) -> str:
    page = client.get(reverse("consent:decide"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    assert GERMAN_DESIGN["headline"] in page
    return TOKEN_RE.search(page).group(1)


def test_a_form_whose_policy_text_was_reworded_in_its_language_while_open_is_refused(
    deciding, in_german
):
    token = _german_token(deciding)
    in_german.summary = REWORDED_SUMMARY
    translation_save(in_german, reviewer=None)

    response = _post(deciding, token, HTTP_ACCEPT_LANGUAGE="de")

    _assert_refused(response, 409, errors.DESIGN_CHANGED)
    # A freshly rendered form records the reworded German text.
    _post(deciding, _german_token(deciding), HTTP_ACCEPT_LANGUAGE="de")
    record = ConsentRecord.objects.get()
    assert record.language == "de"
    assert record.copy_digest != signing.loads(token, salt=FORM_SALT)["c"]


def test_a_form_rendered_by_a_process_with_newer_policy_words_records_those_words(
    deciding, new_user, in_german
):
    rows = PolicyTranslation.objects.filter(pk=in_german.pk)
    # Another process reads the reworded German text (a write this process gets no signal
    # of) and renders the form with it.
    rows.update(summary=REWORDED_SUMMARY)
    translations_memo.forget()
    form = decision_form_issue(
        user=new_user,
        policy=current_policy(),
        surface="first_login",
        variant=ModalVariant.objects.get(key="two_buttons"),
        language="de",
    )
    # This process still remembers the German text as it read before the rewording.
    rows.update(summary=GERMAN_SUMMARY)
    translations_memo.forget()
    translations_memo.get()
    rows.update(summary=REWORDED_SUMMARY)

    response = _post(deciding, form.token())

    assert response.status_code == 302
    record = ConsentRecord.objects.get()
    assert (record.language, record.copy_digest) == ("de", form.copy_digest)
