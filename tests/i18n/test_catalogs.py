"""Every shipped language is complete: no empty or fuzzy message, every marked string in the
catalogs, the compiled catalogs current, plural forms right (issue 15)."""

import shutil
from datetime import UTC, datetime
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import override_settings
from django.utils import translation

from consent.deadlines import deadline_text
from consent.wording import duration_words

LOCALE_DIR = Path(settings.BASE_DIR) / "locale"
SHIPPED = [code for code, _ in settings.LANGUAGES if code != settings.LANGUAGE_CODE]
# The CLDR plural rules Django's own catalogs use for these languages.
NPLURALS = {"de": 2, "fr": 2, "es": 3, "ja": 1}


# Not sources of the product's messages (and locale/ is the catalog the test copies).
EXTRACT_SKIPS = {".venv", "node_modules", "var", "bench", "tests", "docs", "locale", ".git"}


def catalog(language: str) -> polib.POFile:
    return polib.pofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.po"))


def key(entry) -> tuple[str | None, str]:
    return entry.msgctxt or None, entry.msgid


@pytest.mark.parametrize("language", SHIPPED)
def test_no_message_is_empty_or_fuzzy(language):
    po = catalog(language)

    empty = [
        e.msgid for e in po if not e.obsolete and not e.translated() and "fuzzy" not in e.flags
    ]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]

    assert empty == [], f"{language}: untranslated"
    assert fuzzy == [], f"{language}: fuzzy (a guess: rewrite it, then drop the flag)"
    assert not po.metadata_is_fuzzy


@pytest.mark.parametrize("language", SHIPPED)
def test_every_plural_form_is_written(language):
    po = catalog(language)

    assert f"nplurals={NPLURALS[language]};" in po.metadata["Plural-Forms"]
    for entry in po:
        if entry.msgid_plural:
            forms = entry.msgstr_plural
            assert sorted(forms) == list(range(NPLURALS[language])), entry.msgid
            assert all(forms.values()), entry.msgid


def test_every_language_has_the_same_messages():
    messages = {language: {key(e) for e in catalog(language)} for language in SHIPPED}

    first = messages[SHIPPED[0]]
    assert all(found == first for found in messages.values())


@pytest.mark.parametrize("language", SHIPPED)
def test_the_compiled_catalog_matches_its_source(language):
    source = {key(e): e.msgstr or e.msgstr_plural.get(0) for e in catalog(language) if e.msgid}
    mo = polib.mofile(str(LOCALE_DIR / language / "LC_MESSAGES" / "django.mo"))
    compiled = {key(e): e.msgstr or e.msgstr_plural.get(0) for e in mo if e.msgid}

    assert compiled == source, "run manage.py compilemessages and commit the .mo"


def test_every_marked_string_is_in_the_catalogs(tmp_path, monkeypatch):
    # makemessages --check, in effect: extract from a tree of links to the sources into a
    # copy of the German catalog (never into locale/ itself); anything marked in templates
    # or code but missing from the shipped catalogs arrives untranslated.
    tree = tmp_path / "src"
    tree.mkdir()
    for source in Path(settings.BASE_DIR).iterdir():
        if source.is_dir() and source.name not in EXTRACT_SKIPS:
            (tree / source.name).symlink_to(source, target_is_directory=True)
    target = tree / "locale" / "de" / "LC_MESSAGES"
    target.mkdir(parents=True)
    shutil.copy(LOCALE_DIR / "de" / "LC_MESSAGES" / "django.po", target / "django.po")
    monkeypatch.chdir(tree)

    with override_settings(LOCALE_PATHS=[tree / "locale"]):
        call_command("makemessages", locale=["de"], symlinks=True, no_obsolete=True, verbosity=0)

    extracted = polib.pofile(str(target / "django.po"))
    assert len(extracted) == len(catalog("de"))
    missing = [e.msgid for e in extracted if not e.translated()]
    assert missing == [], "mark-up changed: run makemessages and translate these"


@pytest.mark.parametrize(
    ("language", "date", "date_time"),
    [
        ("en", "4 December 2026", "4 December 2026, 17:00 UTC"),
        ("de", "4. Dezember 2026", "4. Dezember 2026 17:00 UTC"),
        ("fr", "4 décembre 2026", "4 décembre 2026 17:00 UTC"),
        ("es", "4 de diciembre de 2026", "4 de diciembre de 2026 a las 17:00 UTC"),
        ("ja", "2026年12月4日", "2026年12月4日17:00 UTC"),
    ],
)
def test_deadlines_are_written_the_way_each_language_writes_dates(language, date, date_time):
    deadline = datetime(2026, 12, 4, 17, 0, tzinfo=UTC)

    with translation.override(language):
        text = deadline_text(deadline)

    assert text.date == f"{date} (UTC)"
    assert text.date_time == date_time


@pytest.mark.parametrize(
    ("language", "one_year", "five_years", "one_day", "thirty_days"),
    [
        ("en", "1 year", "5 years", "1 day", "30 days"),
        ("de", "1 Jahr", "5 Jahre", "1 Tag", "30 Tage"),
        ("fr", "1 an", "5 ans", "1 jour", "30 jours"),
        ("es", "1 año", "5 años", "1 día", "30 días"),
        ("ja", "1年", "5年", "1日", "30日"),
    ],
)
def test_retention_periods_take_each_languages_plural(
    language, one_year, five_years, one_day, thirty_days
):
    with translation.override(language):
        words = [duration_words(days) for days in (365, 1825, 1, 30)]

    assert words == [one_year, five_years, one_day, thirty_days]
