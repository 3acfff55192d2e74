"""Compliance lint of the consent designs: concrete rules, each with the law or guidance it rests on.

A design (``consent.ModalVariant``) is data, so what it does can be read from its
fields: whether the training switch starts on, whether there is a refuse button,
which button is emphasised, what the headline says. Each rule below looks at those
fields only; it is a reviewer's checklist, not legal advice, and a design that
passes still needs a person to read it.

Severity ``fail`` means the design must not be shown to people in the EU/EEA/UK,
and is enforced wherever a design can reach them: making it that group's default
(``consent.services.variant_make_default``), saving new copy for a design in use
(the ModalVariant admin), launching or resuming an experiment
(``experiments.services.experiment_launch``) and, whatever admin did, at render time
(``consent.services.variant_choice_guard``). ``warn`` is shown next to the results
for a human to judge.

The lint is pure (it reads a design's fields) and lives in ``consent`` because
consent enforces it at render time; ``experiments.compliance`` re-exports it, so the
dependency points one way (experiments reads consent).

Sources:

* GDPR (Regulation (EU) 2016/679): Art. 4(11) (consent is a clear affirmative
  act), Art. 7(2) (a consent request must be clearly distinguishable from other
  matters), Art. 7(3) (the person is told before consenting that they can
  withdraw, and withdrawing is as easy as giving), Recital 32 (silence, pre-ticked
  boxes or inactivity are not consent), Recital 42 (no free choice if one cannot
  refuse without detriment).
* CJEU C-673/17 *Planet49*, judgment of 1 October 2019: a pre-checked box the user
  must deselect does not give valid consent.
* EDPB, Report of the work undertaken by the Cookie Banner Taskforce, adopted
  17 January 2023: sections "No reject button on the first layer" and "Deceptive
  button colours" / "Deceptive button contrast".
* EDPB Guidelines 03/2022 on deceptive design patterns in social media platform
  interfaces, version 2.0 (14 February 2023): the patterns "Deceptive snugness"
  (Skipping), "Look over there" (Skipping), "Hidden in plain sight" (Stirring),
  "Conflicting information" and "Ambiguous wording or information" (Left in the dark).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import models

from .models import JurisdictionGroup, Layout, ModalVariant


class Severity(models.TextChoices):
    FAIL = "fail", "Fails"
    WARN = "warn", "Needs review"


@dataclass(frozen=True)
class Rule:
    code: str
    title: str
    severity: str
    citation: str

    @property
    def severity_label(self) -> str:
        return Severity(self.severity).label


@dataclass(frozen=True)
class Finding:
    rule: Rule
    variant_key: str
    detail: str

    @property
    def fails(self) -> bool:
        return self.rule.severity == Severity.FAIL


# EU member states, the other EEA states (IS, LI, NO) and the UK (UK GDPR).
GDPR_COUNTRIES = frozenset(
    {
        *("AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR", "HU", "IE"),
        *("IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK", "SI", "ES", "SE"),
        *("IS", "LI", "NO"),
        "GB",
    }
)

PRE_TICKED = Rule(
    code="pre_ticked_consent",
    title="Consent switch on by default",
    severity=Severity.FAIL,
    citation=(
        "GDPR Art. 4(11) and Recital 32; CJEU C-673/17 Planet49 (1 Oct 2019); "
        "EDPB Guidelines 03/2022 v2.0, “Deceptive snugness”"
    ),
)
NO_REJECT = Rule(
    code="no_reject_on_first_layer",
    title="No refuse button on the first layer",
    severity=Severity.FAIL,
    citation=(
        "EDPB Cookie Banner Taskforce report (Jan 2023), “No reject button on the first layer”; "
        "GDPR Recital 42"
    ),
)
UNEQUAL_PROMINENCE = Rule(
    code="unequal_prominence",
    title="Consenting is more prominent than refusing",
    severity=Severity.FAIL,
    citation=(
        "EDPB Cookie Banner Taskforce report (Jan 2023), “Deceptive button colours” and "
        "“Deceptive button contrast”; EDPB Guidelines 03/2022 v2.0, “Hidden in plain sight”"
    ),
)
QUESTION_HIDDEN = Rule(
    code="consent_question_hidden",
    title="Consent question hidden behind a terms update",
    severity=Severity.FAIL,
    citation=(
        "GDPR Art. 7(2) (clearly distinguishable from other matters); "
        "EDPB Guidelines 03/2022 v2.0, “Look over there”"
    ),
)
NO_WITHDRAWAL = Rule(
    code="no_withdrawal_statement",
    title="No statement that consent can be withdrawn",
    severity=Severity.FAIL,
    citation="GDPR Art. 7(3)",
)
UNLABELLED_SWITCH = Rule(
    code="unlabelled_switch",
    title="Training switch without a label",
    severity=Severity.FAIL,
    citation="GDPR Art. 4(11) (informed, specific); EDPB Guidelines 03/2022 v2.0, “Ambiguous wording or information”",
)
ONE_BUTTON_TWO_MEANINGS = Rule(
    code="one_button_two_meanings",
    title="One button both accepts the terms and records the training choice",
    severity=Severity.WARN,
    citation="EDPB Guidelines 03/2022 v2.0, “Conflicting information”",
)

RULES: tuple[Rule, ...] = (
    PRE_TICKED,
    NO_REJECT,
    UNEQUAL_PROMINENCE,
    QUESTION_HIDDEN,
    NO_WITHDRAWAL,
    UNLABELLED_SWITCH,
    ONE_BUTTON_TWO_MEANINGS,
)

_TERMS_UPDATE = re.compile(
    r"\b(update[sd]?|chang(e|es|ed)|new)\b.*\b(terms|policy|policies)\b", re.I
)
_STATES_PURPOSE = re.compile(r"\b(train(ing)?|models?|consent)\b", re.I)
_WITHDRAWAL = re.compile(
    r"\b(withdraw\w*|change your mind|change (it|this|that|your (choice|decision|answer))"
    r"|turn (it|this|that) off|opt[- ]out|privacy settings)\b",
    re.I,
)


@dataclass(frozen=True)
class Wording:
    """The phrases the wording rules look for, in one language.

    Three rules read words: a headline announcing a terms update, a headline naming the
    training purpose, and copy saying the choice can be withdrawn. Every other rule reads
    the design's structure and holds in any language. Phrase lists per language, rather
    than a reviewer ticking each rule, keep the lint a check a machine repeats on every
    save; a language without a list here cannot be reviewed at all (``wording_for``).
    """

    terms_update: re.Pattern
    states_purpose: re.Pattern
    withdrawal: re.Pattern


WORDING: dict[str, Wording] = {
    "en": Wording(_TERMS_UPDATE, _STATES_PURPOSE, _WITHDRAWAL),
    "de": Wording(
        terms_update=re.compile(
            r"\b(aktualisiert\w*|geändert\w*|neu\w*|Aktualisierung|Änderung\w*)\b.*"
            r"(bedingungen|richtlinie|datenschutzerklärung|datenschutzhinweis\w*)",
            re.I,
        ),
        states_purpose=re.compile(
            r"(train\w*|modell\w*|einwillig\w*|zustimm\w*|KI-Verbesserung)", re.I
        ),
        withdrawal=re.compile(
            r"(widerruf\w*|widerrufen|zurückziehen|zurücknehmen|jederzeit ändern"
            r"|anders entscheiden|(aus|ab)schalten|Datenschutzeinstellungen)",
            re.I,
        ),
    ),
    "fr": Wording(
        terms_update=re.compile(
            r"\b(mis\w* à jour|modifi\w*|nouve\w*|changement\w*)\b.*"
            r"\b(conditions|politique|règles)\b",
            re.I,
        ),
        states_purpose=re.compile(r"\b(entraîn\w*|modèles?|consent\w*)\b", re.I),
        withdrawal=re.compile(
            r"(retir\w*|changer d['\u2019]avis|revenir sur|modifier (ce|votre) choix"
            r"|désactiv\w*|paramètres de confidentialité)",
            re.I,
        ),
    ),
    "es": Wording(
        terms_update=re.compile(
            r"\b(actualiz\w*|cambi\w*|nuev\w*)\b.*\b(términos|condiciones|política)\b", re.I
        ),
        states_purpose=re.compile(r"\b(entrena\w*|modelos?|consent\w*)\b", re.I),
        withdrawal=re.compile(
            r"(retir\w*|cambiar de opinión|cambiar (tu|su|esta) (elección|decisión|respuesta)"
            r"|desactiv\w*|configuración de privacidad)",
            re.I,
        ),
    ),
    # Japanese is written without spaces: no word boundaries.
    "ja": Wording(
        terms_update=re.compile(r"(更新|変更|改定|新しい).*(規約|ポリシー)"),
        states_purpose=re.compile(r"(学習|トレーニング|モデル|同意)"),
        withdrawal=re.compile(
            r"(撤回|取り消|いつでも変更|変更できます|オフにでき|プライバシー設定)"
        ),
    ),
}
NO_WORDING = (
    "The compliance lint has no phrase list for “{language}” (consent.compliance.WORDING), so "
    "its wording cannot be checked: add one before copy in that language is reviewed."
)


def wording_for(language: str | None) -> Wording:
    """The phrase lists for ``language`` (the site default's when none is given).

    Raises LookupError for a language without phrase lists: its copy cannot be linted,
    so it cannot be reviewed.
    """
    code = language or settings.LANGUAGE_CODE
    if code not in WORDING:
        raise LookupError(NO_WORDING.format(language=code))
    return WORDING[code]


def _accept_grants_consent(variant: ModalVariant) -> bool:
    """Pressing the emphasised Accept without doing anything else records an opt-in."""
    return variant.layout == Layout.TWO_BUTTONS or (variant.has_toggle and variant.toggle_default)


def _pre_ticked(variant: ModalVariant, wording: Wording) -> str | None:
    if variant.has_toggle and variant.toggle_default:
        return (
            "The training switch starts on, so pressing Accept without touching it records an "
            "opt-in: silence, inactivity or a pre-ticked box is not consent."
        )
    return None


def _no_reject(variant: ModalVariant, wording: Wording) -> str | None:
    if variant.layout == Layout.TWO_BUTTONS and not variant.decline_label.strip():
        return "The refuse button has no label, so the first layer offers no visible way to say no."
    if variant.has_toggle and variant.toggle_default:
        return (
            f"The only button, “{variant.accept_label}”, consents; saying no needs the switch "
            "found and turned off first."
        )
    return None


def _unequal_prominence(variant: ModalVariant, wording: Wording) -> str | None:
    if variant.accept_emphasis and _accept_grants_consent(variant):
        return (
            f"“{variant.accept_label}” is drawn larger and highlighted while it records consent; "
            "refusing is not offered with equal prominence."
        )
    return None


def _question_hidden(variant: ModalVariant, wording: Wording) -> str | None:
    headline = variant.headline
    if wording.terms_update.search(headline) and not wording.states_purpose.search(headline):
        return (
            f"The headline “{headline}” announces a terms update and does not ask whether chats "
            "may be used for training, so the consent request is not distinguishable from it."
        )
    return None


def _no_withdrawal(variant: ModalVariant, wording: Wording) -> str | None:
    copy = " ".join([variant.body, variant.learn_more, variant.toggle_label])
    if not wording.withdrawal.search(copy):
        return "Neither the body nor “Learn more” says that the choice can be changed or withdrawn later."
    return None


def _unlabelled_switch(variant: ModalVariant, wording: Wording) -> str | None:
    if variant.has_toggle and not variant.toggle_label.strip():
        return "The switch has no label, so a person cannot tell what turning it on means."
    return None


def _one_button_two_meanings(variant: ModalVariant, wording: Wording) -> str | None:
    if variant.has_toggle:
        return (
            f"“{variant.accept_label}” accepts the terms and, depending on the switch, either "
            "consents to training or refuses it."
        )
    return None


_CHECKS: tuple[tuple[Rule, Callable[[ModalVariant, Wording], str | None]], ...] = (
    (PRE_TICKED, _pre_ticked),
    (NO_REJECT, _no_reject),
    (UNEQUAL_PROMINENCE, _unequal_prominence),
    (QUESTION_HIDDEN, _question_hidden),
    (NO_WITHDRAWAL, _no_withdrawal),
    (UNLABELLED_SWITCH, _unlabelled_switch),
    (ONE_BUTTON_TWO_MEANINGS, _one_button_two_meanings),
)


def variant_findings(variant: ModalVariant, *, language: str | None = None) -> list[Finding]:
    """Every rule the design breaks, failures first; its copy read as ``language`` (the
    site default's unless given; ``consent.copy.design_in`` gives a design in another)."""
    wording = wording_for(language)
    findings = [
        Finding(rule=rule, variant_key=variant.key, detail=detail)
        for rule, check in _CHECKS
        if (detail := check(variant, wording)) is not None
    ]
    return sorted(findings, key=lambda f: f.rule.severity != Severity.FAIL)


def failing_findings(variant: ModalVariant, *, language: str | None = None) -> list[Finding]:
    return [f for f in variant_findings(variant, language=language) if f.fails]


def translation_findings(
    base: ModalVariant, translated: ModalVariant, language: str
) -> list[Finding]:
    """What a translation breaks that the base copy does not: a translation may not be
    reviewed with any of these. A design's structure is the same in every language, so
    a rule the base copy already fails (a default-on switch) is not the translation's."""
    wording = wording_for(language)  # LookupError: a language the lint cannot read
    base_codes = {f.rule.code for f in variant_findings(base)}
    return [
        Finding(rule=rule, variant_key=base.key, detail=detail)
        for rule, check in _CHECKS
        if rule.code not in base_codes and (detail := check(translated, wording)) is not None
    ]


def jurisdiction_group(country: str) -> JurisdictionGroup:
    """The group whose rules apply to an account's country; unknown counts as protected.

    An account without a country may be anywhere, so it gets the stricter rules
    rather than the laxer ones.
    """
    code = (country or "").upper()
    if code and code not in GDPR_COUNTRIES:
        return JurisdictionGroup.REST_OF_WORLD
    return JurisdictionGroup.EU_EEA_UK


def allowed_in(variant: ModalVariant, group: str) -> bool:
    """Whether the design may be shown to people in this jurisdiction group."""
    return group != JurisdictionGroup.EU_EEA_UK or not failing_findings(variant)


def audience_includes_gdpr(countries: Iterable[str]) -> bool:
    """An audience with no country restriction includes the EU/EEA/UK."""
    codes = {code.upper() for code in countries}
    return not codes or bool(codes & GDPR_COUNTRIES)
