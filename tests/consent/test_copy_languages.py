"""Consent copy per language (issue 15): shown in a language only once reviewed there, else
in English with a note; the record proves the words (language and that copy's digest);
translations lock once used; the lint blocks reviewing a failing translation."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.urls import reverse

from consent import errors
from consent.copy import copy_digest, design_in, dialog_language
from consent.models import (
    ConsentRecord,
    ModalVariant,
    ModalVariantTranslation,
    Policy,
    PolicyTranslation,
    ServedNotice,
)
from consent.services import translation_save

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

GERMAN_TWO_BUTTONS = {
    "headline": "Dürfen wir Ihre Chats verwenden, um unsere Modelle zu trainieren?",
    "body": "Sie können Ihre Entscheidung jederzeit in den Datenschutzeinstellungen ändern.",
    "accept_label": "Ja, verwenden",
    "decline_label": "Nein, nicht verwenden",
}


def _translate_policy(policy, language, *, reviewed=True):
    return translation_save(
        PolicyTranslation(
            policy=policy,
            language=language,
            title=f"Datenrichtlinie ({language})",
            summary="Sie können Ihre Einwilligung jederzeit widerrufen.",
            body="Volltext.",
            reviewed=reviewed,
        ),
        reviewer=None,
    )


def _translate_design(key, language, *, reviewed=True, **copy):
    return translation_save(
        ModalVariantTranslation(
            variant=ModalVariant.objects.get(key=key),
            language=language,
            reviewed=reviewed,
            **{**GERMAN_TWO_BUTTONS, **copy},
        ),
        reviewer=None,
    )


def _decide(client, user, language, decision="opt_in"):
    client.force_login(user)
    page = client.get(reverse("consent:decide"), HTTP_ACCEPT_LANGUAGE=language).content.decode()
    token = TOKEN_RE.search(page).group(1)
    client.post(
        reverse("consent:decide"),
        {"form_token": token, "decision": decision},
        HTTP_ACCEPT_LANGUAGE=language,
    )
    return page, ConsentRecord.objects.get(user=user)


def test_a_record_made_in_german_carries_de_and_the_german_copy_digest(
    client, new_user, policy, use_variant
):
    design = use_variant("two_buttons")
    _translate_policy(policy, "de")
    _translate_design("two_buttons", "de")

    page, record = _decide(client, new_user, "de")

    assert GERMAN_TWO_BUTTONS["headline"] in page
    assert record.language == "de" and record.requested_language == "de"
    assert record.copy_digest == copy_digest(policy=policy, variant=design, language="de")
    assert record.copy_digest != copy_digest(policy=policy, variant=design, language="en")
    assert record.shown["headline"] == GERMAN_TWO_BUTTONS["headline"]
    served = ServedNotice.objects.get(pk=record.served_notice_id)
    assert (served.language, served.copy_digest) == ("de", record.copy_digest)
    assert record.shown_copy.language == "de"


def test_a_design_without_a_reviewed_french_translation_is_shown_in_english_with_a_note(
    client, new_user, policy, use_variant
):
    design = use_variant("two_buttons")
    _translate_policy(policy, "fr")
    _translate_design("two_buttons", "fr", reviewed=False, headline="Pouvons-nous entraîner ?")

    page, record = _decide(client, new_user, "fr")

    assert "Pouvons-nous" not in page
    assert design.headline in page
    assert "data-copy-fallback" in page
    assert (record.language, record.requested_language) == ("en", "fr")
    assert record.copy_digest == copy_digest(policy=policy, variant=design, language="en")
    assert ServedNotice.objects.get(pk=record.served_notice_id).requested_language == "fr"


def test_selection_falls_back_until_the_translation_is_reviewed(policy):
    design = ModalVariant.objects.get(key="two_buttons")
    _translate_policy(policy, "de")
    translation = _translate_design("two_buttons", "de", reviewed=False)

    before = dialog_language(policy=policy, variant=design, requested="de")
    translation.reviewed = True
    translation_save(translation, reviewer=None)
    after = dialog_language(policy=policy, variant=design, requested="de")

    assert (before.shown, before.fallback) == ("en", True)
    assert (after.shown, after.fallback) == ("de", False)
    assert design_in(design, "de").headline == GERMAN_TWO_BUTTONS["headline"]


def test_a_translation_is_locked_once_someone_decided_reading_it(
    client, new_user, policy, use_variant
):
    use_variant("two_buttons")
    _translate_policy(policy, "de")
    translation = _translate_design("two_buttons", "de")
    _decide(client, new_user, "de")

    translation.headline = "Andere Worte"
    with pytest.raises(ValidationError) as refused:
        translation_save(translation, reviewer=None)

    assert refused.value.messages == [errors.TRANSLATION_IN_USE.format(language="Deutsch")]
    stored = ModalVariantTranslation.objects.get(pk=translation.pk)
    assert stored.headline == GERMAN_TWO_BUTTONS["headline"]


def test_the_lint_blocks_reviewing_a_translation_that_drops_the_withdrawal_statement(policy):
    with pytest.raises(ValidationError) as refused:
        _translate_design("two_buttons", "de", body="Ihre Chats helfen uns.")

    assert "No statement that consent can be withdrawn" in refused.value.messages[0]
    assert not ModalVariantTranslation.objects.exists()


def test_a_receipt_names_the_language_shown_not_the_one_asked_for(
    client, new_user, policy, use_variant
):
    use_variant("two_buttons")  # no reviewed Spanish translation: shown in English
    _, record = _decide(client, new_user, "es")

    receipt = client.get(reverse("consent:receipt_json", args=[record.pk])).json()

    assert receipt["notice"]["language"] == "en"


def test_the_demo_speaks_five_languages_and_shows_one_french_fallback():
    call_command("seed_demo", stdout=io.StringIO())
    policy = Policy.objects.get(version="2026-09")
    designs = {design.key: design for design in ModalVariant.objects.all()}

    shown = {
        (key, language): dialog_language(policy=policy, variant=designs[key], requested=language)
        for key in ("two_buttons", "accept_toggle_on", "accept_toggle_off")
        for language in ("de", "fr", "es", "ja")
    }

    fallbacks = {pair for pair, language in shown.items() if language.fallback}
    assert fallbacks == {("accept_toggle_off", "fr")}
    assert design_in(designs["two_buttons"], "ja").accept_label == "許可する"
