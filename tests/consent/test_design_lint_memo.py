"""The lint outcome the consent screens ask on every request (consent.selectors.design_allowed):
worked out once per design and group for each load of the designs, and never stale."""

import pytest

from consent import selectors
from consent.models import JurisdictionGroup, ModalVariant
from consent.selectors import design_allowed, variant_by_key

pytestmark = pytest.mark.django_db

EU, REST = JurisdictionGroup.EU_EEA_UK, JurisdictionGroup.REST_OF_WORLD
# What the lint reads of a design: its layout, switch and words.
COPY_FIELDS = (
    "layout",
    "toggle_default",
    "headline",
    "body",
    "accept_label",
    "decline_label",
    "toggle_label",
    "accept_emphasis",
    "learn_more",
)


def lint_calls(monkeypatch) -> list[tuple[str, str]]:
    calls = []
    lint = selectors.allowed_in

    def counted(variant, group):
        calls.append((variant.key, group))
        return lint(variant, group)

    monkeypatch.setattr(selectors, "allowed_in", counted)
    return calls


def copy_of_failing_design(variant: ModalVariant) -> ModalVariant:
    """``variant`` with the words and switch of the seeded design that fails the lint."""
    failing = ModalVariant.objects.get(key="accept_toggle_on")
    for name in COPY_FIELDS:
        setattr(variant, name, getattr(failing, name))
    return variant


def test_a_loaded_design_is_linted_once_per_group(monkeypatch):
    calls = lint_calls(monkeypatch)
    failing = variant_by_key("accept_toggle_on")

    answers = [design_allowed(failing, EU) for _ in range(3)] + [design_allowed(failing, REST)]

    assert answers == [False, False, False, True]
    assert calls == [("accept_toggle_on", EU), ("accept_toggle_on", REST)]


def test_a_saved_change_to_a_design_is_linted_again():
    assert design_allowed(variant_by_key("two_buttons"), EU) is True

    # When the design is saved with a default-on switch (past the admin's checks)
    copy_of_failing_design(ModalVariant.objects.get(key="two_buttons")).save()

    # Then the next load's outcome is the new copy's
    assert design_allowed(variant_by_key("two_buttons"), EU) is False


def test_a_design_from_outside_the_load_is_linted_as_it_is():
    loaded = variant_by_key("two_buttons")
    assert design_allowed(loaded, EU) is True

    # An instance with the same key and id but other words, not saved
    elsewhere = copy_of_failing_design(ModalVariant.objects.get(key="two_buttons"))

    assert design_allowed(elsewhere, EU) is False
    assert design_allowed(loaded, EU) is True
