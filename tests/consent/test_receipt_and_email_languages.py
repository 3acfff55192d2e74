"""Receipts and account emails speak the person's language (issue 15): a receipt in the
language its notice was shown in, an account email in the recipient's saved language."""

import json

import pytest
from django.urls import reverse

from consent.models import ModalVariant, ModalVariantTranslation, PolicyTranslation
from consent.receipts import receipt_build
from consent.services import translation_save

from .test_copy_languages import _decide

pytestmark = pytest.mark.django_db

JAPANESE_COPY = {
    "headline": "チャットをモデルのトレーニングに使用してもよろしいですか",
    "body": "この選択はプライバシー設定でいつでも変更できます。",
    "accept_label": "はい、使用します",
    "decline_label": "いいえ、使用しません",
}


def _japanese_copy(policy, key):
    translation_save(
        PolicyTranslation(
            policy=policy,
            language="ja",
            title="データポリシー",
            summary="要約",
            body="本文",
            reviewed=True,
        ),
        reviewer=None,
    )
    translation_save(
        ModalVariantTranslation(
            variant=ModalVariant.objects.get(key=key),
            language="ja",
            reviewed=True,
            **JAPANESE_COPY,
        ),
        reviewer=None,
    )


def test_a_japanese_receipt_page_states_the_rights_in_japanese(
    client, new_user, policy, use_variant
):
    use_variant("two_buttons")
    _japanese_copy(policy, "two_buttons")
    _, record = _decide(client, new_user, "ja")

    # Read later from an English page: the receipt still speaks the language of its notice.
    page = client.get(
        reverse("consent:receipt", args=[record.pk]), HTTP_ACCEPT_LANGUAGE="en"
    ).content.decode()

    assert record.language == "ja"
    assert "同意を撤回する" in page
    assert "データ保護機関に苦情を申し立てる" in page
    assert "Withdraw consent" not in page
    receipt = receipt_build(record)
    assert receipt["notice"]["language"] == "ja"
    assert receipt["rights"][0] == {
        "right": "eu-gdpr:A7-3",
        "title": "同意を撤回する",
        "exercised_at": receipt["rights"][0]["exercised_at"],
    }
    assert receipt["purpose_types"] == [
        "dpv:ImproveExistingProductsAndServices",
        "dpv:ResearchAndDevelopment",
    ]
    # The download is the same document as the page's.
    download = client.get(reverse("consent:receipt_json", args=[record.pk])).json()
    assert download["rights"] == json.loads(json.dumps(receipt["rights"]))


def test_a_german_account_gets_its_password_reset_email_in_german(
    client, user, mailoutbox, django_capture_on_commit_callbacks
):
    user.language = "de"
    user.save(update_fields=["language"])

    # Asked from an English page: the account's own language wins.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:password_reset"), {"email": user.email}, HTTP_ACCEPT_LANGUAGE="en"
        )

    [message] = mailoutbox
    assert message.subject == "Neues Passwort wählen"
    assert "Hallo," in message.body


def test_a_signup_link_is_written_in_the_language_of_the_page_that_asked(
    client, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            reverse("accounts:signup"), {"email": "neu@example.com"}, HTTP_ACCEPT_LANGUAGE="fr"
        )

    [message] = mailoutbox
    assert message.to == ["neu@example.com"]
    assert "Bonjour" in message.body
