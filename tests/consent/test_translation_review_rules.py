"""Translations of consent copy (consent.services.translations): a policy's translation locks
once someone decided reading it, a language the lint cannot read cannot be reviewed, and a
review names who checked the words that are shown."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from consent import errors
from consent.compliance import WORDING
from consent.models import ConsentRecord, ModalVariant, ModalVariantTranslation, PolicyTranslation
from consent.services import translation_delete, translation_save
from tests.factories import UserFactory

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

GERMAN_SUMMARY = "Sie können Ihre Einwilligung jederzeit widerrufen."


def translate_policy(policy, language="de", *, reviewer=None, reviewed=True, **copy):
    return translation_save(
        PolicyTranslation(
            policy=policy,
            language=language,
            **{"title": "Datenrichtlinie", "summary": GERMAN_SUMMARY, "body": "Volltext.", **copy},
            reviewed=reviewed,
        ),
        reviewer=reviewer,
    )


def decide_in_german(client, user) -> ConsentRecord:
    """Decide on the two-button design with the dialog shown in German."""
    translation_save(
        ModalVariantTranslation(
            variant=ModalVariant.objects.get(key="two_buttons"),
            language="de",
            headline="Dürfen wir Ihre Chats verwenden, um unsere Modelle zu trainieren?",
            body="Sie können Ihre Entscheidung jederzeit in den Datenschutzeinstellungen ändern.",
            accept_label="Ja, verwenden",
            decline_label="Nein, nicht verwenden",
            reviewed=True,
        ),
        reviewer=None,
    )
    client.force_login(user)
    page = client.get(reverse("consent:decide"), HTTP_ACCEPT_LANGUAGE="de").content.decode()
    client.post(
        reverse("consent:decide"),
        {"form_token": TOKEN_RE.search(page).group(1), "decision": "opt_out"},
        HTTP_ACCEPT_LANGUAGE="de",
    )
    return ConsentRecord.objects.get(user=user)


def test_a_policy_translation_someone_decided_reading_cannot_be_edited(
    client, new_user, policy, use_variant
):
    use_variant("two_buttons")
    translation = translate_policy(policy)
    assert decide_in_german(client, new_user).language == "de"

    translation.body = "Andere Worte."
    with pytest.raises(ValidationError) as refused:
        translation_save(translation, reviewer=None)

    assert refused.value.messages == [errors.TRANSLATION_IN_USE.format(language="Deutsch")]
    assert PolicyTranslation.objects.get(pk=translation.pk).body == "Volltext."


def test_a_policy_translation_nobody_decided_reading_may_be_edited(policy):
    translation = translate_policy(policy)

    translation.body = "Korrigierter Volltext."
    translation_save(translation, reviewer=None)

    assert PolicyTranslation.objects.get(pk=translation.pk).body == "Korrigierter Volltext."


def test_a_translation_in_use_cannot_be_deleted(client, new_user, policy, use_variant):
    use_variant("two_buttons")
    translation = translate_policy(policy)
    decide_in_german(client, new_user)

    with pytest.raises(ValidationError) as refused:
        translation_delete(translation)

    assert refused.value.messages == [errors.TRANSLATION_IN_USE.format(language="Deutsch")]
    assert PolicyTranslation.objects.filter(pk=translation.pk).exists()


def test_a_translation_not_in_use_can_be_deleted(policy):
    translation = translate_policy(policy)

    translation_delete(translation)

    assert not PolicyTranslation.objects.exists()


def test_copy_in_a_language_the_lint_has_no_phrases_for_cannot_be_marked_reviewed(
    policy, monkeypatch
):
    # A language offered before its phrase list was written (consent.compliance.WORDING).
    monkeypatch.delitem(WORDING, "ja")

    with pytest.raises(ValidationError) as refused:
        translate_policy(policy, "ja", title="データポリシー", summary="要約", body="本文")

    assert refused.value.messages == [errors.TRANSLATION_UNCHECKABLE.format(language="日本語")]
    assert not PolicyTranslation.objects.exists()
    draft = translate_policy(policy, "ja", reviewed=False, title="データポリシー")
    assert not draft.reviewed  # kept as a draft, never shown


def test_saving_reviewed_words_again_unchanged_keeps_who_reviewed_them(policy):
    first, second = UserFactory(), UserFactory()
    translation = translate_policy(policy, reviewer=first)
    reviewed_at = translation.reviewed_at

    translation_save(translation, reviewer=second)

    stored = PolicyTranslation.objects.get(pk=translation.pk)
    assert (stored.reviewed_by, stored.reviewed_at) == (first, reviewed_at)


def test_changing_reviewed_words_names_the_new_reviewer(policy):
    first, second = UserFactory(), UserFactory()
    translation = translate_policy(policy, reviewer=first)

    translation.title = "Datenrichtlinie (korrigiert)"
    translation_save(translation, reviewer=second)

    assert PolicyTranslation.objects.get(pk=translation.pk).reviewed_by == second
