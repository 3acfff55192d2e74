# ruff: noqa: RUF001 -- Japanese text uses its own full-width punctuation
"""Whole journeys in every language the product ships besides English (German, French,
Spanish, Japanese), in a phone-sized browser (issue 15).

Sign-up with the language and the browser's time zone chosen, the first-login decision,
the existing-user notice of a new policy version, a change in privacy settings and the
receipt: every page in the person's language (``<html lang>``, the words), times in their
zone with the zone named, axe-core clean. Then negotiation: Accept-Language, the saved
language over it, and the switcher with JavaScript off.
"""

import re
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from accounts.models import User
from accounts.tokens import signup_token_make
from consent.models import (
    ConsentRecord,
    ModalVariant,
    ModalVariantTranslation,
    Policy,
    PolicyTranslation,
)
from demo.copy_translations import POLICY, design_translations

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "correct-horse-battery"
SCREENSHOTS = Path(settings.BASE_DIR) / "var" / "screenshots"

# What each journey expects to read, in its language (locale/<lang>/LC_MESSAGES/django.po).
WORDS = {
    "de": {
        "accept_language": "de-DE",
        "zone": "Europe/Berlin",
        "zone_abbreviation": r"CES?T",
        "finish": "Konto fertig einrichten",
        "create": "Konto erstellen",
        "chats": "Deine Chats",
        "not_now": "Nicht jetzt",
        "deferred": "In Ordnung, wir fragen dich wieder",
        "privacy": "Datenschutzeinstellungen",
        "saved": "Gespeichert: Neue und wieder geöffnete Chats",
        "receipt_link": "Beleg",
        "receipt": "Einwilligungsbeleg",
        "kept": "5 Jahre",
    },
    "fr": {
        "accept_language": "fr-FR",
        "zone": "Europe/Paris",
        "zone_abbreviation": r"CES?T",
        "finish": "Terminez la création de votre compte",
        "create": "Créer le compte",
        "chats": "Vos conversations",
        "not_now": "Plus tard",
        "deferred": "D'accord, nous vous redemanderons",
        "privacy": "Paramètres de confidentialité",
        "saved": "Enregistré : les conversations nouvelles et rouvertes",
        "receipt_link": "Reçu",
        "receipt": "Reçu de consentement",
        "kept": "5 ans",
    },
    "es": {
        "accept_language": "es-ES",
        "zone": "Europe/Madrid",
        "zone_abbreviation": r"CES?T",
        "finish": "Termina de crear tu cuenta",
        "create": "Crear cuenta",
        "chats": "Tus chats",
        "not_now": "Ahora no",
        "deferred": "De acuerdo, te lo volveremos a preguntar",
        "privacy": "Configuración de privacidad",
        "saved": "Guardado: los chats nuevos y los que vuelvas a abrir",
        "receipt_link": "Comprobante",
        "receipt": "Comprobante de consentimiento",
        "kept": "5 años",
    },
    "ja": {
        "accept_language": "ja-JP",
        "zone": "Asia/Tokyo",
        "zone_abbreviation": r"JST",
        "finish": "アカウントの作成を完了してください",
        "create": "アカウントを作成",
        "chats": "あなたのチャット",
        "not_now": "後で",
        "deferred": "わかりました。",
        "privacy": "プライバシー設定",
        "saved": "保存しました：新しいチャットと再開したチャット",
        "receipt_link": "受領証",
        "receipt": "同意の受領証",
        "kept": "5年",
    },
}


def policy_with_translations(version: str, *, effective_at) -> Policy:
    policy = Policy.objects.create(
        version=version,
        title="Consumer terms and privacy policy",
        summary="We'd like to use your chats to improve our models.",
        body="Full text.",
        effective_at=effective_at,
        decision_deadline=effective_at + timedelta(days=20),
    )
    for language, text in POLICY.items():
        PolicyTranslation.objects.create(policy=policy, language=language, reviewed=True, **text)
    return policy


def designs_translated() -> None:
    designs = {design.key: design for design in ModalVariant.objects.all()}
    for key, language, copy, reviewed in design_translations():
        ModalVariantTranslation.objects.create(
            variant=designs[key], language=language, reviewed=reviewed, **copy
        )


def html_lang(page) -> str:
    return page.locator("html").get_attribute("lang")


def wider_than_the_phone(page) -> list[str]:
    """Visible elements reaching past the right edge: longer words must wrap, not scroll sideways."""
    return page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            // Text clipped for screen readers only (.visually-hidden) is never seen.
            const clipped = (el) => {
                for (let node = el; node; node = node.parentElement) {
                    if (getComputedStyle(node).clip !== 'auto') return true;
                }
                return false;
            };
            const wide = [...document.querySelectorAll('body *')].filter((el) => {
                const box = el.getBoundingClientRect();
                return box.width > 0 && box.height > 0 && Math.round(box.right) > width
                    && !clipped(el);
            });
            const named = wide.map((el) => el.tagName.toLowerCase()
                + (el.id ? '#' + el.id : '') + ' ' + (el.textContent || '').trim().slice(0, 40));
            if (document.documentElement.scrollWidth > width) named.unshift('document scrolls sideways');
            return named;
        }"""
    )


@pytest.mark.parametrize("language", list(WORDS))
def test_a_person_goes_through_everything_in_their_language(
    browser, live_server, language, axe_violations
):
    words = WORDS[language]
    policy_with_translations("2026-09", effective_at=timezone.now() - timedelta(days=1))
    designs_translated()
    design = ModalVariantTranslation.objects.get(variant__key="two_buttons", language=language)
    context = browser.new_context(
        viewport=PHONE, locale=words["accept_language"], timezone_id=words["zone"]
    )
    page = context.new_page()
    email = f"{language}@example.com"

    # Sign-up step two: the page already speaks the browser's language and picks its zone.
    link = reverse("accounts:signup_complete", args=[signup_token_make(email=email)])
    page.goto(f"{live_server.url}{link}")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["finish"])
    assert html_lang(page) == language
    expect(page.locator("#id_language")).to_have_value(language)
    expect(page.locator("#id_time_zone")).to_have_value(words["zone"])
    assert axe_violations(page) == []
    assert wider_than_the_phone(page) == []
    page.locator("#id_password1").fill(PASSWORD)
    page.locator("#id_password2").fill(PASSWORD)
    page.get_by_role("button", name=words["create"]).click()

    # The gate's redirect keeps the language: the first-login decision, in it.
    expect(page).to_have_url(re.compile(r"/consent/decide/"))
    dialog = page.get_by_role("dialog", name=design.headline)
    expect(dialog).to_be_visible()
    assert html_lang(page) == language
    assert dialog.get_attribute("lang") == language
    expect(dialog).to_contain_text(words["kept"])
    assert axe_violations(page) == []
    assert wider_than_the_phone(page) == []
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"i18n-decide-{language}-390.png"))
    dialog.get_by_role("button", name=design.decline_label).click()

    expect(page.get_by_role("heading", level=1)).to_have_text(words["chats"])
    user = User.objects.get(email=email)
    assert (user.language, user.time_zone) == (language, words["zone"])
    first = ConsentRecord.objects.get(user=user)
    assert first.locale == language

    # A new version: the existing-user notice, in the language, and its "Not now".
    policy_with_translations("2026-10", effective_at=timezone.now())
    page.goto(f"{live_server.url}{reverse('conversations:list')}")
    notice = page.get_by_role("dialog", name=design.headline)
    expect(notice).to_be_visible()
    assert axe_violations(page) == []
    assert wider_than_the_phone(page) == []
    notice.get_by_role("button", name=words["not_now"]).click()
    expect(page.get_by_text(words["deferred"])).to_be_visible()

    # Privacy settings: the change, answered in the language.
    page.goto(f"{live_server.url}{reverse('consent:privacy_settings')}")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["privacy"])
    assert axe_violations(page) == []
    assert wider_than_the_phone(page) == []
    page.get_by_role("button", name=design.accept_label, exact=True).click()
    expect(page.get_by_text(words["saved"])).to_be_visible()

    # The receipt of that change: in the language, its time in the person's zone, named.
    page.goto(f"{live_server.url}{reverse('consent:privacy_settings')}")
    page.get_by_role("link", name=re.compile(words["receipt_link"])).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words["receipt"])
    assert html_lang(page) == language
    latest = ConsentRecord.objects.filter(user=user).latest("decided_at")
    local = latest.decided_at.astimezone(ZoneInfo(words["zone"]))
    expect(page.locator("main")).to_contain_text(
        re.compile(rf"0?{local.hour}:{local:%M}:\d\d {words['zone_abbreviation']}")
    )
    assert axe_violations(page) == []
    assert wider_than_the_phone(page) == []
    context.close()


def test_accept_language_decides_for_a_visitor(browser, live_server):
    context = browser.new_context(viewport=PHONE, locale="fr-FR")
    page = context.new_page()

    page.goto(f"{live_server.url}{reverse('accounts:login')}")

    assert html_lang(page) == "fr"
    expect(page.get_by_role("heading", level=1)).to_have_text("Se connecter")
    context.close()


def test_the_saved_language_wins_over_accept_language(browser, live_server, django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_user("yuki@example.com", PASSWORD, language="ja")
    client = Client()
    client.force_login(user)
    context = browser.new_context(viewport=PHONE, locale="de-DE")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()

    page.goto(f"{live_server.url}{reverse('consent:privacy_settings')}")

    assert html_lang(page) == "ja"
    expect(page.get_by_role("heading", level=1)).to_have_text("プライバシー設定")
    context.close()


def test_the_switcher_works_without_javascript(browser, live_server, axe_violations):
    context = browser.new_context(viewport=PHONE, locale="en-GB", java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server.url}{reverse('accounts:login')}")

    page.get_by_label("Language").select_option("de")
    page.get_by_role("button", name="Change language").click()

    expect(page).to_have_url(re.compile(r"/accounts/login/$"))
    assert html_lang(page) == "de"
    expect(page.get_by_role("heading", level=1)).to_have_text("Anmelden")
    context.close()
