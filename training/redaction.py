"""Redaction of PII and secrets in chat text before it reaches a training snapshot.

Each finding is replaced by a typed placeholder (``[EMAIL]``, ``[PHONE]``, ...) so the
text keeps its shape for training while the value itself is gone. The rules lean towards
over-redaction: a false positive costs a few tokens of training text, a false negative
leaks a user's data into a model.

Pure Python, no Django imports, no network: detect-secrets plugins are only asked for
``analyze_string`` (``analyze_line`` may try to verify a key against the vendor's API).

Rules worth knowing (the tests pin each of them):

* EMAIL: anything ``local@domain.tld``; ``@alice`` mentions have no local part and stay.
  Obfuscated ``jane (at) example (dot) com`` with ``()``, ``[]`` or ``{}`` brackets.
* URL_WITH_CREDENTIALS: ``scheme://user:password@host...``; a URL with a user name but
  no password (``ssh://git@host``) is not a credential and is left to the later steps.
* CARD: 12-19 digits passing Luhn, written as one run or in groups separated by single
  spaces/dashes/dots (first group 4-8 digits, middle groups 3-8, last group any length).
  A run preceded by ``+`` is a phone number, not a card. Runs of more than 19 digits are
  one long number and stay.
* IBAN: ``CC00`` + BBAN, compact or grouped with single spaces or dashes, valid per
  ``stdnum.iban``.
* NATIONAL_ID: US SSN, UK National Insurance and NHS numbers, German tax id, French NIR,
  Spanish DNI/NIE, Italian codice fiscale, Dutch BSN, Brazilian CPF, Japanese My Number,
  Indian Aadhaar and PAN, each confirmed by its python-stdnum validator (the NI number has
  no check digit: HMRC's prefix rules). Shapes with letters or separators count in any
  region; bare digit runs only in the owner's region and next to the ID's name
  ("BSN 123456782"), since a bare nine digits is an order number as often as an SSN.
* IP: IPv4 needs exactly four dotted octets (0-255, leading zeros tolerated) that are not
  glued to an ASCII letter or another dot-number, so ``1.2.3``, ``v2.10.4.1``,
  ``1.2.3.4.5``, dates and ``1.2.3.4-beta`` (a pre-release suffix) stay, as does a dotted
  quad right after the word version/release/build/firmware. IPv6 must parse with
  ``ipaddress``, have at least two colons and at least one decimal digit, so ``std::`` /
  ``db::add`` style code paths and clock times stay.
* PHONE: ``phonenumbers.PhoneNumberMatcher`` at ``Leniency.VALID`` in the default region
  (the export passes the owner's ``User.country``); ``+CC`` numbers of any country match
  regardless of region. Dates, year-led references (``Invoice 2024-000123``) and
  hyphenated ISBNs the matcher accepts are not phone numbers.
* SECRET: detect-secrets regex plugins, PEM / PuTTY private key blocks, a few regexes for
  key formats detect-secrets 1.5 has no plugin for (see ``_EXTRA_SECRETS``), and values
  assigned to secret-sounding names (``password: x``, ``DB_PASSWORD=x``, ``pwd = 'x'``)
  with detect-secrets' keyword list and its filters for code that only refers to one.

Measured on ``tests/data/redaction_corpus.jsonl`` by ``bench/redaction.py``; bump
``REDACTION_VERSION`` with any change here and re-run it.

Known limits: no names or street addresses (that needs a model; see bench/README.md);
passwords in prose without a ``:``/``=`` ("my password is x") stay; national-format
phone numbers of a region other than the owner's stay, as do national ids of another
country written as bare digits. Over-redaction on purpose: a 12-19 digit ID passes Luhn
one time in ten ([CARD]), a 10-digit ID valid as a US number is [PHONE], ``icon@2x.png``
is [EMAIL], a section number ``1.2.3.4`` is [IP], "password: something" takes the word
after the colon, and a private key header with no END line takes the rest of the message
with it.
"""

from __future__ import annotations

import ipaddress
import re
from bisect import bisect_right
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from urllib.parse import urlsplit

import phonenumbers
from detect_secrets.filters.heuristic import (
    is_indirect_reference,
    is_prefixed_with_dollar_sign,
    is_templated_secret,
)
from detect_secrets.plugins.artifactory import ArtifactoryDetector
from detect_secrets.plugins.aws import AWSKeyDetector
from detect_secrets.plugins.azure_storage_key import AzureStorageKeyDetector
from detect_secrets.plugins.base import RegexBasedDetector
from detect_secrets.plugins.cloudant import CloudantDetector
from detect_secrets.plugins.discord import DiscordBotTokenDetector
from detect_secrets.plugins.github_token import GitHubTokenDetector
from detect_secrets.plugins.gitlab_token import GitLabTokenDetector
from detect_secrets.plugins.ibm_cloud_iam import IbmCloudIamDetector
from detect_secrets.plugins.ibm_cos_hmac import IbmCosHmacDetector
from detect_secrets.plugins.jwt import JwtTokenDetector
from detect_secrets.plugins.keyword import DENYLIST as KEYWORD_DENYLIST
from detect_secrets.plugins.mailchimp import MailchimpDetector
from detect_secrets.plugins.npm import NpmDetector
from detect_secrets.plugins.openai import OpenAIDetector
from detect_secrets.plugins.private_key import PrivateKeyDetector
from detect_secrets.plugins.pypi_token import PypiTokenDetector
from detect_secrets.plugins.sendgrid import SendGridDetector
from detect_secrets.plugins.slack import SlackDetector
from detect_secrets.plugins.softlayer import SoftlayerDetector
from detect_secrets.plugins.square_oauth import SquareOAuthDetector
from detect_secrets.plugins.stripe import StripeDetector
from detect_secrets.plugins.telegram_token import TelegramBotTokenDetector
from detect_secrets.plugins.twilio import TwilioKeyDetector
from phonenumbers import PhoneMetadata
from stdnum import iban, isbn, luhn
from stdnum.br import cpf
from stdnum.de import idnr
from stdnum.es import dni, nie
from stdnum.fr import nir
from stdnum.gb import nhs
from stdnum.in_ import aadhaar, pan
from stdnum.it import codicefiscale
from stdnum.jp import in_ as mynumber
from stdnum.nl import bsn
from stdnum.us import ssn

# Stored with every export: bump it whenever a rule below changes what gets redacted.
REDACTION_VERSION = "2"


class Kind(StrEnum):
    URL_WITH_CREDENTIALS = "URL_WITH_CREDENTIALS"
    SECRET = "SECRET"
    EMAIL = "EMAIL"
    IBAN = "IBAN"
    NATIONAL_ID = "NATIONAL_ID"
    CARD = "CARD"
    IP = "IP"
    PHONE = "PHONE"

    @property
    def placeholder(self) -> str:
        return f"[{self.value}]"


_PLACEHOLDERS = frozenset(kind.placeholder for kind in Kind)


@dataclass(frozen=True)
class RedactionResult:
    text: str
    # Only kinds that were actually replaced; an empty dict means the text was clean.
    counts: dict[str, int] = field(default_factory=dict)


Span = tuple[int, int]


def _replace_spans(text: str, spans: Iterable[Span], kind: Kind) -> tuple[str, int]:
    """Replace sorted, non-overlapping spans; returns the new text and how many."""
    parts: list[str] = []
    cursor = 0
    count = 0
    for start, end in spans:
        parts.append(text[cursor:start])
        parts.append(kind.placeholder)
        cursor = end
        count += 1
    parts.append(text[cursor:])
    return "".join(parts), count


def _merge(spans: Iterable[Span]) -> list[Span]:
    merged: list[Span] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


# --- URL with credentials -------------------------------------------------------------

_URL = re.compile(r"(?<![A-Za-z0-9+.\-])[A-Za-z][A-Za-z0-9+.\-]*://[^\s<>\"'`]+")
# Sentence punctuation after a URL belongs to the sentence, not the URL.
_URL_TRAILING = ".,;:!?)]}'\""


def _redact_urls_with_credentials(text: str, region: str) -> tuple[str, int]:
    if "://" not in text or "@" not in text:
        return text, 0
    spans: list[Span] = []
    for match in _URL.finditer(text):
        url = match.group().rstrip(_URL_TRAILING)
        try:
            password = urlsplit(url).password
        except ValueError:  # e.g. an unbalanced "[" in the host part
            continue
        if password:
            spans.append((match.start(), match.start() + len(url)))
    return _replace_spans(text, spans, Kind.URL_WITH_CREDENTIALS)


# --- Secrets --------------------------------------------------------------------------

# Regex plugins only. Left out on purpose: HighEntropyString (git SHAs, UUIDs and hashes
# are everywhere in chat), Keyword (built for source files, noisy on prose), IPPublic and
# BasicAuth (the IP and URL steps own those).
_SECRET_PLUGINS: tuple[RegexBasedDetector, ...] = (
    ArtifactoryDetector(),
    AWSKeyDetector(),
    AzureStorageKeyDetector(),
    CloudantDetector(),
    DiscordBotTokenDetector(),
    GitHubTokenDetector(),
    GitLabTokenDetector(),
    IbmCloudIamDetector(),
    IbmCosHmacDetector(),
    JwtTokenDetector(),
    MailchimpDetector(),
    NpmDetector(),
    OpenAIDetector(),
    PrivateKeyDetector(),  # safety net for headers the block regex below cannot frame
    PypiTokenDetector(),
    SendGridDetector(),
    SlackDetector(),
    SoftlayerDetector(),
    SquareOAuthDetector(),
    StripeDetector(),
    TelegramBotTokenDetector(),
    TwilioKeyDetector(),
)

# Key formats no detect-secrets 1.5 plugin knows. OpenAIDetector only matches legacy keys
# carrying the "T3BlbkFJ" marker, so sk-/sk-proj-/sk-ant- keys need their own rule.
# A pattern with a group reports only the group (the value, not the variable name).
_EXTRA_SECRETS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<![A-Za-z0-9_-])sk-(?=[A-Za-z0-9_-]*\d)[A-Za-z0-9_-]{20,}"),  # OpenAI, Anthropic
    re.compile(r"github_pat_[A-Za-z0-9_]{22,}"),  # GitHub fine-grained PAT
    re.compile(r"AIza[0-9A-Za-z_-]{35}"),  # Google API key
    re.compile(r"hf_[A-Za-z0-9]{30,}"),  # Hugging Face token
    # StripeDetector knows live secret/restricted keys only, not test keys or webhook secrets.
    re.compile(r"(?:sk|rk)_test_[0-9A-Za-z]{24,}"),
    re.compile(r"whsec_[A-Za-z0-9+/=]{24,}"),
    # AWSKeyDetector wants the secret access key in quotes; .env pastes and the shared
    # credentials file ("aws_secret_access_key = ...") have none, and may space the "=".
    re.compile(r"(?i:aws)\w{0,30}[\"']?\s*[=:]\s*[\"']?([0-9A-Za-z/+]{40})(?![0-9A-Za-z/+])"),
)

# Cheap gate per line. Every plugin above needs either a 20+ character token or one of the
# short anchors (JWT header, Slack token, Artifactory token/password, .npmrc token, private
# key header). A line without any of them cannot yield a finding: skip the ~25 regexes.
_SECRET_CANDIDATE = re.compile(
    r"[A-Za-z0-9_\-+/=]{20}|eyJ|xox|AKC|AP[\dA-F]|_authToken|PRIVATE KEY|PuTTY"
)

# detect-secrets' PrivateKeyDetector reports only the header line, not the key material,
# and misses "ENCRYPTED PRIVATE KEY"; this frames the whole block. Without an END line
# (a truncated paste) everything up to the end of the message goes.
_PRIVATE_KEY_BLOCK = re.compile(
    r"-*BEGIN ((?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?)-*.*?(?:-*END \1-*|\Z)"
    r"|PuTTY-User-Key-File-\d.*?(?:Private-MAC: *[0-9A-Fa-f]+|\Z)",
    re.DOTALL,
)

# Plugins report the part their regex covers; real keys can run on (Stripe keys are now
# ~100 chars, the JWT plugin stops before the signature). Widen each hit to the whole token:
# leftwards over key characters, rightwards also over "=" padding and JWT dots.
_TOKEN_LEFT = re.compile(r"[A-Za-z0-9_\-+/]+")
_TOKEN_RIGHT = re.compile(r"[A-Za-z0-9_\-+/=.]+")
# Some plugin regexes include the delimiter around the value (Artifactory: whitespace/quotes).
_VALUE_DELIMITERS = " \t\r\n\"'=:"

# Some plugin regexes go quadratic on adversarial runs ("eyJeyJeyJ...", "xoxb-1-xoxb-1-..."),
# and a pasted megabyte must not stall an export. Long lines are scanned in overlapping
# windows; the overlap outlasts the secrets the plugins match (1 KiB GitLab agent tokens
# are the longest), and a hit cut at a window edge is widened to its whole token anyway.
_WINDOW = 4096
_OVERLAP = 1024


def _windows(line: str) -> Iterator[str]:
    start = 0
    while True:
        yield line[start : start + _WINDOW]
        if start + _WINDOW >= len(line):
            return
        start += _WINDOW - _OVERLAP


def _secret_values(line: str) -> set[str]:
    values: set[str] = set()
    for window in _windows(line):
        for plugin in _SECRET_PLUGINS:
            values.update(plugin.analyze_string(window))
        for pattern in _EXTRA_SECRETS:
            values.update(pattern.findall(window))
    return {stripped for value in values if (stripped := value.strip(_VALUE_DELIMITERS))}


def _run_containing(runs: list[Span], starts: list[int], index: int) -> Span | None:
    position = bisect_right(starts, index) - 1
    if position >= 0 and runs[position][0] <= index < runs[position][1]:
        return runs[position]
    return None


def _secret_spans(line: str) -> list[Span]:
    left_runs = [m.span() for m in _TOKEN_LEFT.finditer(line)]
    # A "." ending the run ends the sentence, not the token.
    right_runs = [
        (m.start(), m.start() + len(m.group().rstrip("."))) for m in _TOKEN_RIGHT.finditer(line)
    ]
    left_starts = [start for start, _ in left_runs]
    right_starts = [start for start, _ in right_runs]
    spans: list[Span] = []
    for value in _secret_values(line):
        start = line.find(value)
        while start != -1:
            end = start + len(value)
            left_run = _run_containing(left_runs, left_starts, start)
            right_run = _run_containing(right_runs, right_starts, end - 1)
            left = left_run[0] if left_run else start
            right = right_run[1] if right_run else end
            spans.append((min(left, start), max(right, end)))
            start = line.find(value, end)
    return _merge(spans)


# Values assigned to secret-sounding names: "password: x", "DB_PASSWORD=x", "pwd = 'x'",
# '"password": "x"'. The names are detect-secrets' Keyword plugin list (English and Spanish)
# plus the same word in the corpus's other languages; its filters for code that only
# refers to a secret are applied. Not its regexes: they want a value starting with a letter
# or digit ("password: #45^E4gc" slips through) and run an unquoted value to the end of the
# line; here an unquoted value ends at the first space.
_SECRET_NAMES = "|".join(
    (*KEYWORD_DENYLIST, "passwort", "kennwort", "mot de passe", "senha", "wachtwoord", "パスワード")
)
_ASSIGNMENT = re.compile(
    # No leading [\w-]*: it makes every word a backtracking start. Only the suffix of the
    # name matters (see _DESCRIBES_A_SECRET).
    rf"((?:{_SECRET_NAMES})[\w-]*)[\]'\"]{{0,2}}[ \t]*(?::=|[:=\uff1a])[ \t]*"
    r"(?:([\"'`])(?P<quoted>[^\n]+?)\2|(?P<bare>[^\s\"'`]+))",
    re.IGNORECASE,
)
# Names that hold something about a secret, not the secret: secret_name = "prod/db".
_DESCRIBES_A_SECRET = re.compile(
    r"_(?:name|id|file|path|type|field|len|length|hash|policy|reset|url)\Z", re.I
)
# A dotted name is a reference to where the secret lives: api_key = settings.API_KEY.
_REFERENCE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+\Z")
_SHORTEST_SECRET = 6  # "str)" in "def f(password: str)" is code, not a password


# Substrings every name above contains: a plain "in" test is far cheaper than the regex.
_NAME_HINTS = ("pass", "pwd", "secret", "key", "contrase", "senha", "wachtwoord", "パスワード")


def _may_assign_a_secret(line: str) -> bool:
    if ":" not in line and "=" not in line and "\uff1a" not in line:
        return False
    lowered = line.lower()
    return any(hint in lowered for hint in _NAME_HINTS)


def _assignment_spans(line: str) -> list[Span]:
    spans: list[Span] = []
    for match in _ASSIGNMENT.finditer(line):
        if _DESCRIBES_A_SECRET.search(match.group(1)):
            continue
        group = "quoted" if match.group("quoted") is not None else "bare"
        start, end = match.span(group)
        value = match.group(group)
        if group == "bare":
            value = value.rstrip(".,;")  # sentence punctuation
            end = start + len(value)
        if (
            len(value) < _SHORTEST_SECRET
            or value in _PLACEHOLDERS  # already redacted by an earlier pass
            or is_templated_secret(value)
            or is_prefixed_with_dollar_sign(value)
            or _REFERENCE.match(value)
            or is_indirect_reference(line[match.start() :])
        ):
            continue
        spans.append((start, end))
    return spans


def _redact_secrets(text: str, region: str) -> tuple[str, int]:
    count = 0
    if "PRIVATE KEY" in text or "PuTTY-User-Key-File" in text:
        text, count = _replace_spans(
            text, (m.span() for m in _PRIVATE_KEY_BLOCK.finditer(text)), Kind.SECRET
        )
    lines: list[str] = []
    for line in text.splitlines(keepends=True):
        spans: list[Span] = []
        if _SECRET_CANDIDATE.search(line):
            spans.extend(_secret_spans(line))
        if _may_assign_a_secret(line):
            spans.extend(_assignment_spans(line))
        if spans:
            line, found = _replace_spans(line, _merge(spans), Kind.SECRET)
            count += found
        lines.append(line)
    return "".join(lines), count


# --- Email ----------------------------------------------------------------------------

# Deliberately permissive (Unicode local parts and domains); the look-behind anchors the
# match at the start of the local part so a long run without "@" stays linear.
_EMAIL = re.compile(r"(?<![\w.%+\-])[\w.%+\-]+@[\w.\-]+\.[^\W\d_]{2,}")


# "jane (at) example (dot) com", "jane[at]example.com", "jane {at} mail {dot} co {dot} uk".
_OBFUSCATED_AT = r"\s*[(\[{]\s*(?i:at)\s*[)\]}]\s*"
_OBFUSCATED_DOT = r"(?:\.|\s*[(\[{]\s*(?i:dot)\s*[)\]}]\s*)"
_OBFUSCATED_EMAIL = re.compile(
    rf"(?<![A-Za-z0-9.%+\-])[A-Za-z0-9._%+\-]+{_OBFUSCATED_AT}[A-Za-z0-9\-]+"
    rf"(?:{_OBFUSCATED_DOT}[A-Za-z0-9\-]+)*{_OBFUSCATED_DOT}[A-Za-z]{{2,}}(?![A-Za-z0-9])"
)
_OBFUSCATION_GATE = re.compile(r"[(\[{]\s*(?i:at)\s*[)\]}]")


def _redact_emails(text: str, region: str) -> tuple[str, int]:
    count = 0
    if "@" in text:
        text, count = _EMAIL.subn(Kind.EMAIL.placeholder, text)
    if _OBFUSCATION_GATE.search(text):
        text, found = _OBFUSCATED_EMAIL.subn(Kind.EMAIL.placeholder, text)
        count += found
    return text, count


# --- IBAN -----------------------------------------------------------------------------

_IBAN_CANDIDATE = re.compile(r"(?<![A-Za-z0-9])[A-Za-z]{2}[0-9]{2}(?:[ \-]?[A-Za-z0-9]){11,30}")
_IBAN_START = re.compile(r"[A-Za-z]{2}[0-9]{2}")
_CHUNK = re.compile(r"[^\s\-]+")
_IBAN_MIN_LENGTH = 15  # Norway; the longest (Saint Lucia, 32) fits the candidate regex.


def _iban_spans(candidate: str) -> list[Span]:
    """Spans of valid IBANs inside a candidate; it may have swallowed neighbouring words."""
    chunks = [m.span() for m in _CHUNK.finditer(candidate)]
    spans: list[Span] = []
    i = 0
    while i < len(chunks):
        if _IBAN_START.match(candidate, chunks[i][0]):
            for j in range(len(chunks), i, -1):
                start, end = chunks[i][0], chunks[j - 1][1]
                compact = candidate[start:end].replace(" ", "").replace("-", "")
                if len(compact) >= _IBAN_MIN_LENGTH and iban.is_valid(compact):
                    spans.append((start, end))
                    i = j - 1
                    break
        i += 1
    return spans


def _redact_ibans(text: str, region: str) -> tuple[str, int]:
    spans: list[Span] = []
    for match in _IBAN_CANDIDATE.finditer(text):
        offset = match.start()
        spans.extend((offset + s, offset + e) for s, e in _iban_spans(match.group()))
    return _replace_spans(text, spans, Kind.IBAN)


# --- National identifiers -------------------------------------------------------------

# Candidates are found by shape and kept only if python-stdnum validates them. A shape with
# letters or separators (123-45-6789, AB 12 34 56 C, 123.456.789-09) is rare in other text,
# so it counts anywhere. A bare run of digits is an order number as often as an ID, so it
# counts only in the owner's country and next to a word naming the ID ("BSN 123456782").
_NEAR = 48  # characters either side searched for the naming word


@dataclass(frozen=True)
class _NationalId:
    shape: str
    is_valid: Callable[[str], bool]
    regions: frozenset[str] = frozenset()  # empty: any region
    context: re.Pattern[str] | None = None  # a naming word must be near


# Not glued to a letter, a digit, or a separator followed by one: "v1-123-45-6789".
_ID_BEFORE = r"(?<![A-Za-z0-9])(?<![A-Za-z0-9][.\-])"
_ID_AFTER = r"(?![A-Za-z0-9]|[.\-][A-Za-z0-9])"


def _id(shape: str) -> str:
    return f"(?:{shape})"


# HMRC allocates no check digit; the prefix rules are the whole validation.
_NINO_BAD_PREFIXES = frozenset({"BG", "GB", "KN", "NK", "NT", "TN", "ZZ"})


def _is_nino(value: str) -> bool:
    compact = value.replace(" ", "").upper()
    return (
        compact[0] not in "DFIQUV"
        and compact[1] not in "DFIOQUV"
        and compact[:2] not in _NINO_BAD_PREFIXES
        and compact[-1] in "ABCD"
    )


def _words(*words: str) -> re.Pattern[str]:
    return re.compile("|".join(words), re.I)


_NATIONAL_IDS: tuple[_NationalId, ...] = (
    # US Social Security number
    _NationalId(_id(r"[0-9]{3}-[0-9]{2}-[0-9]{4}|[0-9]{3} [0-9]{2} [0-9]{4}"), ssn.is_valid),
    _NationalId(
        _id(r"[0-9]{9}"), ssn.is_valid, frozenset({"US"}), _words("ssn", "social security")
    ),
    # UK National Insurance number; NHS number
    _NationalId(_id(r"[A-Z]{2} ?[0-9]{2} ?[0-9]{2} ?[0-9]{2} ?[A-D]"), _is_nino),
    _NationalId(
        _id(r"[0-9]{3}-[0-9]{3}-[0-9]{4}|[0-9]{3} [0-9]{3} [0-9]{4}"),
        nhs.is_valid,
        frozenset({"GB"}),
    ),
    _NationalId(_id(r"[0-9]{10}"), nhs.is_valid, frozenset({"GB"}), _words("nhs")),
    # German tax id (Steuer-IdNr)
    _NationalId(_id(r"[0-9]{2} [0-9]{3} [0-9]{3} [0-9]{3}"), idnr.is_valid, frozenset({"DE"})),
    _NationalId(
        _id(r"[0-9]{11}"),
        idnr.is_valid,
        frozenset({"DE"}),
        _words("steuer", "identifikationsnummer", "idnr", "tax id"),
    ),
    # French social security number (NIR); the 2A/2B Corsican forms included
    _NationalId(
        _id(r"[12] ?[0-9]{2} ?[0-9]{2} ?(?:[0-9]{2}|2[AB]) ?[0-9]{3} ?[0-9]{3} ?[0-9]{2}"),
        nir.is_valid,
        context=None,
    ),
    # Spanish DNI and NIE
    _NationalId(_id(r"[0-9]{8}-?[A-Za-z]"), dni.is_valid),
    _NationalId(_id(r"[XYZxyz]-?[0-9]{7}-?[A-Za-z]"), nie.is_valid),
    # Italian codice fiscale (omocodia letters may stand in for digits)
    _NationalId(
        _id(r"[A-Za-z]{6}[0-9LMNP-V]{2}[A-Za-z][0-9LMNP-V]{2}[A-Za-z][0-9LMNP-V]{3}[A-Za-z]"),
        codicefiscale.is_valid,
    ),
    # Dutch BSN
    _NationalId(_id(r"[0-9]{4}\.[0-9]{2}\.[0-9]{3}"), bsn.is_valid, frozenset({"NL"})),
    _NationalId(
        _id(r"[0-9]{9}"), bsn.is_valid, frozenset({"NL"}), _words("bsn", "burgerservice", "sofi")
    ),
    # Brazilian CPF
    _NationalId(_id(r"[0-9]{3}\.[0-9]{3}\.[0-9]{3}-[0-9]{2}"), cpf.is_valid),
    _NationalId(_id(r"[0-9]{11}"), cpf.is_valid, frozenset({"BR"}), _words("cpf")),
    # Japanese Individual Number (My Number)
    _NationalId(_id(r"[0-9]{4} [0-9]{4} [0-9]{4}"), mynumber.is_valid, frozenset({"JP"})),
    _NationalId(
        _id(r"[0-9]{12}"),
        mynumber.is_valid,
        frozenset({"JP"}),
        _words("マイナンバー", "個人番号", "my ?number"),
    ),
    # Indian Aadhaar and PAN
    _NationalId(_id(r"[2-9][0-9]{3} [0-9]{4} [0-9]{4}"), aadhaar.is_valid, frozenset({"IN"})),
    _NationalId(
        _id(r"[2-9][0-9]{11}"), aadhaar.is_valid, frozenset({"IN"}), _words("aadhaa?r", "uid")
    ),
    _NationalId(_id(r"[A-Z]{3}[PCHFATBLJG][A-Z][0-9]{4}[A-Z]"), pan.is_valid, frozenset({"IN"})),
)


_TWO_DIGITS = re.compile(r"[0-9]{2}")


@cache
def _national_id_scanner(region: str) -> tuple[re.Pattern[str], tuple[_NationalId, ...]]:
    """One alternation over the region's shapes: one scan of the text instead of twenty."""
    rules = tuple(rule for rule in _NATIONAL_IDS if not rule.regions or region in rule.regions)
    alternatives = "|".join(f"(?P<id{i}>{rule.shape})" for i, rule in enumerate(rules))
    return re.compile(f"{_ID_BEFORE}(?:{alternatives}){_ID_AFTER}"), rules


@cache
def _anchored(shape: str) -> re.Pattern[str]:
    return re.compile(f"{shape}{_ID_AFTER}")


def _accepts(rule: _NationalId, text: str, start: int, end: int) -> bool:
    if rule.context is not None and not rule.context.search(
        text, max(0, start - _NEAR), end + _NEAR
    ):
        return False
    return rule.is_valid(text[start:end])


def _redact_national_ids(text: str, region: str) -> tuple[str, int]:
    if not _TWO_DIGITS.search(text):  # every identifier above has two digits in a row
        return text, 0
    scanner, rules = _national_id_scanner(region.upper())
    spans: list[Span] = []
    for match in scanner.finditer(text):
        first = rules[int(match.lastgroup[2:])]
        if _accepts(first, text, *match.span()):
            spans.append(match.span())
            continue
        # The alternation stops at the first shape that fits; another may fit and validate.
        for rule in rules:
            if (
                rule is not first
                and (other := _anchored(rule.shape).match(text, match.start()))
                and _accepts(rule, text, *other.span())
            ):
                spans.append(other.span())
                break
    return _replace_spans(text, _merge(spans), Kind.NATIONAL_ID)


# --- Payment cards --------------------------------------------------------------------

# At least 12 digits with single space/dash/dot separators; "+" in front means phone number.
# A dotted quad has 1-3 digit groups, which the card grouping rule below turns down.
_CARD_CANDIDATE = re.compile(r"(?<![0-9+])[0-9](?:[ \-.]?[0-9]){11,}")
_DIGITS = re.compile(r"[0-9]+")


def _is_card_grouping(groups: list[str]) -> bool:
    if len(groups) == 1:
        return True
    return (
        4 <= len(groups[0]) <= 8
        and all(3 <= len(group) <= 8 for group in groups[1:-1])
        and len(groups[-1]) <= 8
    )


def _card_spans(candidate: str) -> list[Span]:
    """Spans of Luhn-valid card numbers; the candidate may hold a year or ref next to one.

    Only a run too long or oddly grouped for one card is searched window by window.
    In "2024 4111 1111 1111 1111" both "2024 4111 1111 1111" and "4111 1111 1111 1111"
    pass Luhn. Which one is the card is unknowable, so every valid window is redacted and
    overlapping windows merge into one placeholder rather than leak half a card.
    """
    groups = [(m.group(), m.span()) for m in _DIGITS.finditer(candidate)]
    whole = [digits for digits, _ in groups]
    if len("".join(whole)) <= 19 and _is_card_grouping(whole):
        # Shaped like one card number: it is one, or it is not. Sub-windows of a failing
        # "1234 5678 9012 3456" would pass Luhn one time in ten.
        return [(0, len(candidate))] if luhn.is_valid("".join(whole)) else []
    spans: list[Span] = []
    for i in range(len(groups)):
        # Windows starting at group i, longest first; never more than 19 digits wide.
        ends: list[int] = []
        width = 0
        for j in range(i, len(groups)):
            width += len(groups[j][0])
            if width > 19:
                break
            ends.append(j + 1)
        for j in reversed(ends):
            window = [digits for digits, _ in groups[i:j]]
            number = "".join(window)
            if len(number) >= 12 and _is_card_grouping(window) and luhn.is_valid(number):
                spans.append((groups[i][1][0], groups[j - 1][1][1]))
                break
    return _merge(spans)


def _redact_cards(text: str, region: str) -> tuple[str, int]:
    spans: list[Span] = []
    for match in _CARD_CANDIDATE.finditer(text):
        offset = match.start()
        spans.extend((offset + s, offset + e) for s, e in _card_spans(match.group()))
    return _replace_spans(text, spans, Kind.CARD)


# --- IP addresses ---------------------------------------------------------------------

# Not glued to a word or a dot-number on either side ("v2.10.4.1", "1.2.3.4.5", "1.2.3.4rc1")
# and no pre-release suffix ("1.2.3.4-beta"): those are versions.
# Boundaries are ASCII word characters: Japanese text runs straight into an address.
_IPV4 = re.compile(r"(?<![A-Za-z0-9_.])[0-9]{1,3}(?:\.[0-9]{1,3}){3}(?!\.?[A-Za-z0-9_]|-[A-Za-z])")
_IPV6 = re.compile(
    r"(?<![A-Za-z0-9_:.])(?:[0-9A-Fa-f]{0,4}:){2,7}"
    r"(?:[0-9]{1,3}(?:\.[0-9]{1,3}){3}|[0-9A-Fa-f]{1,4})?"
    r"(?:%[A-Za-z0-9_.]+)?(?![A-Za-z0-9_:]|\.\d)"
)
_VERSION_CONTEXT = re.compile(r"\b(?:version|ver\.?|release|build|firmware)\s*[:#]?\s*\Z", re.I)


def _is_ipv4(match: re.Match[str]) -> bool:
    before = match.string[max(0, match.start() - 16) : match.start()]
    if _VERSION_CONTEXT.search(before):
        return False
    # Leading zeros ("010.000.000.001") still spell an address to a human reader.
    normalised = ".".join(str(int(octet)) for octet in match.group().split("."))
    try:
        ipaddress.IPv4Address(normalised)
    except ValueError:
        return False
    return True


def _is_ipv6(match: re.Match[str]) -> bool:
    candidate = match.group()
    if not any(char in "0123456789" for char in candidate):
        return False
    try:
        ipaddress.IPv6Address(candidate)
    except ValueError:
        return False
    return True


def _redact_ips(text: str, region: str) -> tuple[str, int]:
    count = 0
    # IPv6 first: "::ffff:192.168.0.1" embeds an IPv4 address.
    for pattern, is_valid, gate in ((_IPV6, _is_ipv6, ":"), (_IPV4, _is_ipv4, ".")):
        if gate in text:
            spans = [m.span() for m in pattern.finditer(text) if is_valid(m)]
            text, found = _replace_spans(text, spans, Kind.IP)
            count += found
    return text, count


# --- Phone numbers --------------------------------------------------------------------

# The matcher is the slowest step, so it only runs on text with enough digits to hold
# a VALID number. The floor comes from phonenumbers' own metadata: +CC numbers can be as
# short as six digits (+43 1112), and some regions have four-digit national numbers (NU).
_NUMBER_TYPES = (
    "fixed_line",
    "mobile",
    "toll_free",
    "premium_rate",
    "shared_cost",
    "personal_number",
    "voip",
    "pager",
    "uan",
    "voicemail",
)


_NO_FLOOR = 99  # a region without number types puts no floor on the digit count


def _shortest_national_number(metadata: PhoneMetadata) -> int:
    lengths = [
        length
        for name in _NUMBER_TYPES
        if (desc := getattr(metadata, name)) is not None and desc.national_number_pattern
        for length in (desc.possible_length or metadata.general_desc.possible_length)
        if length > 0
    ]
    return min(lengths, default=_NO_FLOOR)


@cache
def _shortest_international_number() -> int:
    regions = [PhoneMetadata.metadata_for_region(r) for r in phonenumbers.SUPPORTED_REGIONS]
    regions += [
        PhoneMetadata.metadata_for_nongeo_region(code)
        for code in phonenumbers.COUNTRY_CODES_FOR_NON_GEO_REGIONS
    ]
    return min(
        len(str(metadata.country_code)) + _shortest_national_number(metadata)
        for metadata in regions
        if metadata is not None
    )


@cache
def _enough_digits_for_phone(region: str) -> re.Pattern[str]:
    shortest = _shortest_international_number()
    if (metadata := PhoneMetadata.metadata_for_region(region.upper())) is not None:
        shortest = min(shortest, _shortest_national_number(metadata))
    # A number the matcher can accept is one run of digits and punctuation: digits
    # scattered over a sentence (a date here, a version there) cannot make one.
    return re.compile(rf"\d(?:[^\w+]{{0,3}}\d){{{shortest - 1}}}")


# What the matcher at VALID reads as a number but people write for something else (the
# corpus's clean set): dates ("06.03.2002"), year-led references ("Invoice 2024-000123")
# and hyphenated ISBNs ("0-259-78907-0").
_DATE_OR_REFERENCE = re.compile(
    r"[0-9]{1,2}([./-])[0-9]{1,2}\1(?:19|20)?[0-9]{2}|(?:19|20)[0-9]{2}[-/.][0-9]+"
)


def _is_phone(raw: str) -> bool:
    if _DATE_OR_REFERENCE.fullmatch(raw):
        return False
    # Any ten digits pass the ISBN-10 check one time in eleven: only the hyphenated
    # ISBN shape (four or five groups) says ISBN.
    return not (raw.count("-") in (3, 4) and isbn.is_valid(raw))


def _redact_phones(text: str, region: str) -> tuple[str, int]:
    if not _enough_digits_for_phone(region).search(text):
        return text, 0
    matcher = phonenumbers.PhoneNumberMatcher(text, region, leniency=phonenumbers.Leniency.VALID)
    spans = [(m.start, m.end) for m in matcher if _is_phone(m.raw_string)]
    return _replace_spans(text, spans, Kind.PHONE)


# --- Pipeline -------------------------------------------------------------------------

# Order matters, earliest wins:
# 1. URL credentials before email: "user:pass@host" is also a valid-looking email.
# 2. Secrets before the rest: tokens and key blocks hold digit runs and dots that the
#    card/IP/phone steps would otherwise chew into pieces, leaving key material behind.
# 3. Email before the number steps: "4155550132@txt.example.com" is an address.
# 4. IBAN before card and phone: an IBAN's digits contain Luhn-valid and phone-like runs.
# 5. National ids before card and phone: an Aadhaar or NIR can pass Luhn, a CPF or an SSN
#    can read as a phone number; the id's own check digits say more.
# 6. Card before phone: the phone matcher happily eats parts of a card number.
# 7. IP before phone: the dotted quads are cheap to pin down; the matcher is not.
_STEPS: tuple[tuple[Kind, Callable[[str, str], tuple[str, int]]], ...] = (
    (Kind.URL_WITH_CREDENTIALS, _redact_urls_with_credentials),
    (Kind.SECRET, _redact_secrets),
    (Kind.EMAIL, _redact_emails),
    (Kind.IBAN, _redact_ibans),
    (Kind.NATIONAL_ID, _redact_national_ids),
    (Kind.CARD, _redact_cards),
    (Kind.IP, _redact_ips),
    (Kind.PHONE, _redact_phones),
)


# A placeholder can expose a neighbour that an earlier step's boundary check rejected:
# in "4111 1111 1111 1111DE89370400440532013000" the IBAN is glued to a digit until the
# card becomes "[CARD]". Re-running until a pass finds nothing makes redaction idempotent;
# clean text (the bulk of an export) costs one pass. Placeholders are never re-matched, so
# each pass shrinks the unredacted text and two passes suffice in practice.
_MAX_PASSES = 5


def redact(text: str, *, default_region: str = "US") -> RedactionResult:
    """Replace PII and secrets in ``text`` with typed placeholders.

    ``default_region`` is the ISO 3166 region used to read phone numbers written without a
    ``+CC`` prefix; numbers with one are found whatever the region.
    """
    counts: dict[str, int] = {}
    for _ in range(_MAX_PASSES):
        found_in_pass = False
        for kind, step in _STEPS:
            text, found = step(text, default_region)
            if found:
                counts[kind.value] = counts.get(kind.value, 0) + found
                found_in_pass = True
        if not found_in_pass:
            break
    return RedactionResult(text=text, counts=counts)


def redact_text(text: str, *, default_region: str = "US") -> str:
    return redact(text, default_region=default_region).text
