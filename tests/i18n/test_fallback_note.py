"""The note over consent copy shown in the site default names that language plainly, in
the language the person asked for."""

import pytest

from consent.copy import CopyLanguage


@pytest.mark.parametrize(
    ("requested", "named"),
    [("de", "auf Englisch"), ("fr", "en anglais"), ("es", "en inglés"), ("ja", "英語で")],
)
def test_the_note_names_english_in_the_language_asked_for(requested, named):
    note = CopyLanguage(requested=requested, shown="en").note()

    assert named in note
    assert "米国" not in note and "(" not in note  # no region nobody chose


def test_no_note_when_the_copy_is_in_the_language_asked_for():
    assert CopyLanguage(requested="en", shown="en").note() == ""
