"""The decision dialog is rendered once per process and design, and its per-request values
(CSRF token, form token, return address) filled in per request (consent.presenters): every
rendering still gets its own values, keeps the same copy, and shows edited words at once."""

import re

import pytest
from django.urls import reverse

from consent.models import ModalVariant, ModalVariantTranslation, PolicyTranslation, ServedNotice
from consent.services import translation_save
from consent.shown import shown_html

from .conftest import TOKEN_RE

pytestmark = pytest.mark.django_db

DIALOG = re.compile(r"<dialog.*?</dialog>", re.S)


def dialog(client, **params) -> str:
    page = client.get(reverse("consent:decide"), params).content.decode()
    return DIALOG.search(page).group(0)


def test_each_rendering_has_its_own_form_and_keeps_the_same_copy(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)

    first, second = dialog(client), dialog(client)

    assert TOKEN_RE.search(first).group(1) != TOKEN_RE.search(second).group(1)
    assert 'name="csrfmiddlewaretoken" value="' in first
    assert "hole-" not in first + second  # no marker left unfilled
    servings = list(ServedNotice.objects.order_by("served_at"))
    assert len(servings) == 2
    assert servings[0].shown_copy_id == servings[1].shown_copy_id
    # What is kept is what was sent, but for the hidden values.
    assert servings[0].shown_copy.html == shown_html(first) == shown_html(second)


def test_the_return_address_is_escaped_as_the_template_would(client, new_user, use_variant):
    use_variant("two_buttons")
    client.force_login(new_user)

    sent = dialog(client, next='/conversations/?a=1&b="2"')

    assert 'name="next" value="/conversations/?a=1&amp;b=&quot;2&quot;"' in sent


def test_reworded_copy_is_shown_at_once_not_the_dialog_rendered_before(
    client, new_user, policy, use_variant
):
    use_variant("two_buttons")
    german_policy = translation_save(
        PolicyTranslation(
            policy=policy,
            language="de",
            title="Datenrichtlinie",
            summary="Du kannst deine Einwilligung jederzeit widerrufen.",
            body="Volltext.",
            reviewed=True,
        ),
        reviewer=None,
    )
    translation_save(
        ModalVariantTranslation(
            variant=ModalVariant.objects.get(key="two_buttons"),
            language="de",
            reviewed=True,
            headline="Dürfen wir deine Chats verwenden?",
            body="Du kannst deine Entscheidung jederzeit in den Datenschutzeinstellungen ändern.",
            accept_label="Ja",
            decline_label="Nein",
        ),
        reviewer=None,
    )
    client.force_login(new_user)
    client.cookies["django_language"] = "de"
    assert "Datenrichtlinie</a>" in dialog(client)

    # Nobody has decided reading it, so it may still be edited: the policy's title is in
    # the dialog ("Read the full ...") but not in the design's copy.
    german_policy.title = "Richtlinie zu deinen Daten"
    translation_save(german_policy, reviewer=None)

    after = dialog(client)
    assert "Richtlinie zu deinen Daten</a>" in after
    kept = ServedNotice.objects.order_by("served_at").last().shown_copy.html
    assert "Richtlinie zu deinen Daten" in kept


def test_a_skeleton_from_another_process_is_never_filled_with_this_ones_values(
    client, new_user, use_variant, monkeypatch
):
    """Each process marks its skeletons with its own random markers; a cache shared between
    processes (Redis) must not serve one process's skeleton to another."""
    from consent import presenters

    use_variant("two_buttons")
    client.force_login(new_user)
    dialog(client)  # this "process" stores its skeleton
    other = "feedfacefeedface"  # another process's marker, same shared cache
    monkeypatch.setattr(presenters, "_MARKER", other)
    monkeypatch.setattr(
        presenters, "_HOLES", {name: f"hole-{other}-{name}" for name in presenters._HOLES}
    )

    sent = dialog(client)

    assert "hole-" not in sent
    assert TOKEN_RE.search(sent).group(1)
