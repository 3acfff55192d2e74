"""Redaction of chat text before export to a training snapshot.

Secret-looking fixtures are glued together from pieces so the repository's own secret
scanning does not flag this file.
"""

import dataclasses
import importlib.util
import re
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.redaction import STRUCTURED, Score, load_corpus, score, span_leaked
from training.redaction import REDACTION_VERSION, RedactionResult, redact, redact_text

AWS_ACCESS_KEY = "AKIA" + "IOSFODNN7EXAMPLE"
GITHUB_TOKEN = "ghp_" + "R8a2Kx0pLm4Qz7Yt1Wv9Bn3Cd5Ef6Gh8Ij0K"
STRIPE_KEY = "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"
OPENAI_PROJECT_KEY = "sk-proj-" + "Zb3kP9sQx2Lw7Vn4Rt6Yu1Io8Pa5Sd0Fg"
ANTHROPIC_KEY = "sk-ant-api03-" + "Zb3kP9sQx2Lw7Vn4Rt6Yu1Io8Pa5Sd0Fg-AAAA"
SLACK_BOT_TOKEN = "xoxb-" + "123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"
JWT = ".".join(
    (
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9",
        "eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ",
        "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    )
)
PRIVATE_KEY_BODY = "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi\nZ1BjP5CE8Wu1b2LqBz0VXtYk9R3tPq=="
PRIVATE_KEY_BLOCK = (
    "-----BEGIN RSA " + f"PRIVATE KEY-----\n{PRIVATE_KEY_BODY}\n-----END RSA " + "PRIVATE KEY-----"
)

# (value, placeholder) pairs; each is embedded in a sentence by the tests.
POSITIVES = [
    pytest.param("jane.doe+tag@example.co.uk", "[EMAIL]", id="email-plus-tag"),
    pytest.param("bob@mail.example.com", "[EMAIL]", id="email-subdomain"),
    pytest.param("+1 (415) 555-0132", "[PHONE]", id="phone-us-international"),
    pytest.param("(415) 555-0132", "[PHONE]", id="phone-us-national"),
    pytest.param("415.555.0132", "[PHONE]", id="phone-us-dotted"),
    pytest.param("+44 20 7946 0958", "[PHONE]", id="phone-uk-international"),
    pytest.param("+33 1 42 68 53 00", "[PHONE]", id="phone-fr-international"),
    pytest.param("4111 1111 1111 1111", "[CARD]", id="card-visa-spaced"),
    pytest.param("5500-0000-0000-0004", "[CARD]", id="card-mastercard-dashed"),
    pytest.param("4111111111111111", "[CARD]", id="card-visa-unseparated"),
    pytest.param("3782 822463 10005", "[CARD]", id="card-amex-4-6-5"),
    pytest.param("GB82 WEST 1234 5698 7654 32", "[IBAN]", id="iban-gb-spaced"),
    pytest.param("DE89370400440532013000", "[IBAN]", id="iban-de-compact"),
    pytest.param("de89 3704 0044 0532 0130 00", "[IBAN]", id="iban-de-lowercase"),
    pytest.param("192.168.0.1", "[IP]", id="ipv4"),
    pytest.param("2001:db8::1", "[IP]", id="ipv6-compressed"),
    pytest.param("fe80::1ff:fe23:4567:890a", "[IP]", id="ipv6-link-local"),
    pytest.param("::ffff:192.168.0.1", "[IP]", id="ipv6-mapped-ipv4"),
    pytest.param(AWS_ACCESS_KEY, "[SECRET]", id="aws-access-key"),
    pytest.param(GITHUB_TOKEN, "[SECRET]", id="github-token"),
    pytest.param(STRIPE_KEY, "[SECRET]", id="stripe-live-key"),
    pytest.param(OPENAI_PROJECT_KEY, "[SECRET]", id="openai-project-key"),
    pytest.param(ANTHROPIC_KEY, "[SECRET]", id="anthropic-key"),
    pytest.param(SLACK_BOT_TOKEN, "[SECRET]", id="slack-bot-token"),
    pytest.param(JWT, "[SECRET]", id="jwt"),
    pytest.param(PRIVATE_KEY_BLOCK, "[SECRET]", id="rsa-private-key-block"),
    pytest.param(
        "https://admin:hunter2@db.example.com/x", "[URL_WITH_CREDENTIALS]", id="url-credentials"
    ),
    pytest.param(
        "postgres://app:s3cr3t@10.0.0.5:5432/prod",
        "[URL_WITH_CREDENTIALS]",
        id="url-credentials-dsn",
    ),
]

NEAR_MISSES = [
    pytest.param("Order #123456789 has shipped", id="order-number"),
    pytest.param("Due on 2024-03-15, i.e. 15/03/2024", id="dates"),
    pytest.param("Meet at 10:30:45 or 3:45 PM", id="times"),
    pytest.param("Upgrade to v1.2.3 or Python 3.11.7", id="semver-and-python"),
    pytest.param("Build v2.10.4.1 is out", id="four-part-build-with-v"),
    pytest.param("Pinned 1.2.3.4-beta for now", id="four-part-prerelease"),
    pytest.param("Running version 1.2.3.4 in prod", id="four-part-after-version"),
    pytest.param("Section 1.2.3.4.5 of the spec", id="five-part-dotted"),
    pytest.param("Card 1234 5678 9012 3456 is fake", id="sixteen-digits-failing-luhn"),
    pytest.param("IBAN GB82 WEST 1234 5698 7654 33 bounced", id="iban-bad-checksum"),
    pytest.param("Founded in 1998, sold in 2024", id="years"),
    pytest.param("It costs $1,299.99 (or 1.299,99 EUR)", id="prices"),
    pytest.param("ISBN 978-3-16-148410-0", id="isbn-hyphenated"),
    pytest.param("Ping @alice and @bob_smith about it", id="at-mentions"),
    pytest.param("Use std::vector and db::add here", id="cpp-rust-paths"),
    pytest.param("Mac 00:1a:2b:3c:4d:5e is not an IP", id="mac-address"),
    pytest.param("Commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it", id="git-sha"),
    pytest.param("Request 123e4567-e89b-12d3-a456-426614174000 failed", id="uuid"),
    pytest.param("Clone ssh://github.com/acme/app.git first", id="url-without-credentials"),
    pytest.param("Score was 3-1 after 90 minutes", id="plain-prose"),
]


def test_redaction_version_is_a_string_for_export_metadata() -> None:
    assert REDACTION_VERSION == "2"


@pytest.mark.parametrize(("value", "placeholder"), POSITIVES)
def test_pii_is_replaced_by_its_placeholder(value: str, placeholder: str) -> None:
    redacted = redact_text(f"Here it is: {value} - thanks!")

    assert redacted == f"Here it is: {placeholder} - thanks!"


@pytest.mark.parametrize(("value", "placeholder"), POSITIVES)
def test_counts_name_the_placeholder_kind(value: str, placeholder: str) -> None:
    result = redact(f"Here it is: {value} - thanks!")

    assert result.counts == {placeholder.strip("[]"): 1}


@pytest.mark.parametrize("text", NEAR_MISSES)
def test_near_miss_survives_unchanged(text: str) -> None:
    result = redact(text)

    assert result.text == text
    assert result.counts == {}


def test_mixed_message_redacts_every_kind() -> None:
    text = (
        "Hi, I'm Jane (jane@example.com, +1 415 555 0132). "
        "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, "
        f"server 10.0.0.1, key {AWS_ACCESS_KEY}, db https://root:pw@db.internal/app."
    )

    result = redact(text)

    assert result.text == (
        "Hi, I'm Jane ([EMAIL], [PHONE]). Card [CARD], IBAN [IBAN], "
        "server [IP], key [SECRET], db [URL_WITH_CREDENTIALS]."
    )
    assert result.counts == {
        "URL_WITH_CREDENTIALS": 1,
        "SECRET": 1,
        "EMAIL": 1,
        "IBAN": 1,
        "CARD": 1,
        "IP": 1,
        "PHONE": 1,
    }


def test_counts_add_up_repeated_findings() -> None:
    result = redact("a@example.com, b@example.com and c@example.org")

    assert result.counts == {"EMAIL": 3}


def test_clean_text_has_empty_counts() -> None:
    assert redact("Nothing to see here.") == RedactionResult("Nothing to see here.", {})


def test_result_is_immutable() -> None:
    result = redact("x")

    with pytest.raises(dataclasses.FrozenInstanceError):
        result.text = "y"  # type: ignore[misc]


def test_url_credentials_win_over_email() -> None:
    # "hunter2@db.example.com" alone would look like an email and leak "admin:".
    result = redact("see https://admin:hunter2@db.example.com/x")

    assert result.counts == {"URL_WITH_CREDENTIALS": 1}


def test_url_with_user_but_no_password_is_not_a_credential() -> None:
    assert redact_text("ssh://git@github.com/acme/app") == "ssh://[EMAIL]/acme/app"


def test_iban_wins_over_card_and_phone() -> None:
    assert redact("DE89 3704 0044 0532 0130 00").counts == {"IBAN": 1}


def test_international_phone_is_not_read_as_card() -> None:
    # 44 20 7946 0958 is twelve digits; the leading "+" marks it as a phone number.
    assert redact("+44 20 7946 0958").counts == {"PHONE": 1}


def test_card_next_to_a_year_leaks_no_card_digits() -> None:
    # Both "2024 4111 1111 1111" and "4111 1111 1111 1111" pass Luhn; redact both.
    assert redact_text("in 2024 4111 1111 1111 1111 was used") == "in [CARD] was used"


def test_more_than_nineteen_digits_is_not_a_card() -> None:
    assert redact_text("ref 41111111111111111111") == "ref 41111111111111111111"


def test_iban_does_not_swallow_the_following_word() -> None:
    assert redact_text("GB82 WEST 1234 5698 7654 32 OK") == "[IBAN] OK"


def test_national_number_uses_default_region() -> None:
    assert redact_text("call 020 7946 0958", default_region="GB") == "call [PHONE]"


def test_national_number_of_another_region_is_not_guessed() -> None:
    assert redact_text("call 020 7946 0958", default_region="US") == "call 020 7946 0958"


def test_four_digit_national_number_in_a_region_that_has_them() -> None:
    # Niue numbers are four digits: the digit-count gate must come from the region.
    assert redact_text("call 4002", default_region="NU") == "call [PHONE]"


def test_short_local_number_without_area_code_survives() -> None:
    assert redact_text("ext 555-0132") == "ext 555-0132"


def test_ip_port_and_prefix_length_survive() -> None:
    assert redact_text("10.0.0.1:8080 in 10.0.0.0/24") == "[IP]:8080 in [IP]/24"


def test_ipv4_at_sentence_end_is_redacted() -> None:
    assert redact_text("It was 203.0.113.7.") == "It was [IP]."


def test_ipv6_with_zone_id_is_redacted_whole() -> None:
    assert redact_text("ping fe80::1%eth0 now") == "ping [IP] now"


def test_ipv6_in_brackets_keeps_port() -> None:
    assert redact_text("http://[2001:db8::1]:8080/") == "http://[[IP]]:8080/"


def test_private_key_body_is_gone() -> None:
    redacted = redact_text(f"my key:\n{PRIVATE_KEY_BLOCK}\nplease help")

    assert redacted == "my key:\n[SECRET]\nplease help"


def test_encrypted_private_key_block_is_redacted() -> None:
    # detect-secrets' PrivateKeyDetector has no pattern for this header.
    block = PRIVATE_KEY_BLOCK.replace("RSA ", "ENCRYPTED ")

    assert redact_text(f"key:\n{block}\nok") == "key:\n[SECRET]\nok"


def test_truncated_private_key_is_redacted_to_end_of_message() -> None:
    truncated = PRIVATE_KEY_BLOCK.split("-----END")[0]

    assert redact_text(f"oops {truncated}") == "oops [SECRET]"


def test_long_stripe_key_leaves_no_tail() -> None:
    # The plugin matches 24 characters; current keys are much longer.
    long_key = STRIPE_KEY + "Xy9" * 25

    assert redact_text(f"key={long_key} ok") == "key=[SECRET] ok"


def test_jwt_signature_is_redacted_with_the_token() -> None:
    signature = JWT.rsplit(".", 1)[1]

    assert signature not in redact_text(f"Bearer {JWT}")


def test_secret_at_sentence_end_keeps_the_full_stop() -> None:
    assert redact_text(f"The key is {AWS_ACCESS_KEY}.") == "The key is [SECRET]."


def test_unquoted_aws_secret_access_key_in_env_paste_is_redacted() -> None:
    env_line = "AWS_SECRET_ACCESS_KEY=" + "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"

    assert redact_text(env_line) == "AWS_SECRET_ACCESS_KEY=[SECRET]"


def test_slack_webhook_is_a_secret() -> None:
    webhook = "https://hooks.slack.com/services/" + "T0AAAAAAA/B0BBBBBBB/abcdefghijklmnopqrstuvwx"

    assert redact_text(f"post to {webhook}") == "post to [SECRET]"


IDEMPOTENCE_CORPUS = [
    *(f"Here it is: {p.values[0]} - thanks!" for p in POSITIVES),
    *(p.values[0] for p in NEAR_MISSES),
    "jane@example.com +1 415 555 0132 4111 1111 1111 1111 DE89370400440532013000 10.0.0.1",
]


@pytest.mark.parametrize("text", IDEMPOTENCE_CORPUS)
def test_redaction_is_idempotent(text: str) -> None:
    once = redact_text(text)

    assert redact_text(once) == once


def test_neighbour_exposed_by_a_placeholder_is_redacted_in_the_same_call() -> None:
    # The IBAN is glued to the card's last digit until the card becomes "[CARD]".
    result = redact("4111 1111 1111 1111DE89370400440532013000")

    assert result == RedactionResult("[CARD][IBAN]", {"CARD": 1, "IBAN": 1})


# Deliberately simpler than the module's pattern: what a reviewer would grep for.
SIMPLE_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")

# Arbitrary text, plus text built from the characters PII is made of so the interesting
# paths (digits, separators, "@", dots, colons) are actually reached.
PII_ALPHABET = "ab.xyzEIK019+-@:/ \n_"
chat_text = st.one_of(st.text(), st.text(alphabet=PII_ALPHABET))


# No deadline: the first phone lookup loads phonenumbers metadata, which is slow on a busy box.
property_test = settings(deadline=None)


@property_test
@given(chat_text)
def test_redaction_never_raises(text: str) -> None:
    assert isinstance(redact(text), RedactionResult)


@property_test
@given(chat_text)
def test_output_contains_no_email(text: str) -> None:
    assert SIMPLE_EMAIL.search(redact_text(text)) is None


@property_test
@given(chat_text)
def test_redaction_is_idempotent_on_arbitrary_text(text: str) -> None:
    once = redact_text(text)

    assert redact_text(once) == once


@property_test
@given(
    st.lists(
        st.one_of(
            st.sampled_from(["jane@example.com", "4111 1111 1111 1111", "192.168.0.1"]),
            st.text(alphabet=PII_ALPHABET, max_size=12),
        ),
        max_size=8,
    )
)
def test_planted_email_never_survives(parts: list[str]) -> None:
    assert "jane@example.com" not in redact_text(" ".join(parts))


# --- The labelled corpus (tests/data/redaction_corpus.jsonl) ------------------------------
# Quality gates, not timing: bench/redaction.py prints the same figures with throughput.

ROOT = Path(__file__).resolve().parents[2]
STRUCTURED_RECALL_FLOOR = 0.98
CLEAN_KEPT_FLOOR = 0.97


def _corpus_tool():
    spec = importlib.util.spec_from_file_location(
        "make_redaction_corpus", ROOT / "tools" / "make_redaction_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def corpus_score() -> Score:
    return score(load_corpus(), lambda text, region: redact_text(text, default_region=region))


def test_corpus_file_is_what_the_script_generates() -> None:
    committed = (ROOT / "tests" / "data" / "redaction_corpus.jsonl").read_text(encoding="utf-8")

    # If this fails: python tools/make_redaction_corpus.py, and commit the file.
    assert _corpus_tool().render() == committed


def test_corpus_covers_eight_locales_a_thousand_sensitive_and_300_clean_messages() -> None:
    corpus = load_corpus()

    assert len({m["locale"] for m in corpus}) >= 8
    assert sum(m["kind"] == "sensitive" for m in corpus) >= 1000
    assert sum(m["kind"] == "clean" for m in corpus) >= 300
    assert all(m["text"][s["start"] : s["end"]] == s["value"] for m in corpus for s in m["spans"])


@pytest.mark.parametrize("category", STRUCTURED)
def test_structured_category_recall_on_the_corpus(corpus_score: Score, category: str) -> None:
    leaked = [value for _, value, _ in corpus_score.misses.get(category, [])]

    assert corpus_score.recall(category) >= STRUCTURED_RECALL_FLOOR, leaked


def test_clean_look_alikes_survive_unchanged(corpus_score: Score) -> None:
    changed = [(text, out) for _, text, out in corpus_score.misses.get("clean", [])]

    assert corpus_score.clean_rate >= CLEAN_KEPT_FLOOR, changed


def test_a_half_redacted_value_counts_as_a_leak() -> None:
    message = {"text": "IBAN DE89 3704 0044 0532 0130 00", "spans": []}
    span = {"start": 5, "end": 32, "value": "DE89 3704 0044 0532 0130 00"}
    message["spans"].append(span)

    assert span_leaked(message, span, "IBAN DE89 3704 [CARD]")
    assert not span_leaked(message, span, "IBAN [IBAN]")


# --- Named regressions: the misses listed in issue 14 -------------------------------------

SECRET_ACCESS_KEY = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYEXAMPLEKEY"
STRIPE_WEBHOOK_SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def test_us_ssn_is_removed() -> None:
    assert redact_text("My SSN is 536-90-4399.") == "My SSN is [NATIONAL_ID]."


def test_compact_ssn_needs_the_word_ssn_nearby() -> None:
    assert redact_text("SSN 536904399 please") == "SSN [NATIONAL_ID] please"
    assert redact_text("Order 536904399 shipped") == "Order 536904399 shipped"


def test_aws_credentials_file_line_with_spaces_around_equals() -> None:
    line = f"aws_secret_access_key = {SECRET_ACCESS_KEY}"

    assert redact_text(line) == "aws_secret_access_key = [SECRET]"


@pytest.mark.parametrize(
    ("number", "region"),
    [
        pytest.param("020 7946 0958", "GB", id="london"),
        pytest.param("0151 23456789", "DE", id="german-mobile"),
        pytest.param("06 12 34 56 78", "FR", id="french-mobile"),
    ],
)
def test_national_phone_format_in_the_owners_region(number: str, region: str) -> None:
    assert redact_text(f"Call me on {number}.", default_region=region) == "Call me on [PHONE]."


def test_card_written_with_dots() -> None:
    assert redact_text("Card 4111.1111.1111.1111 expired") == "Card [CARD] expired"


def test_dashed_iban() -> None:
    assert redact_text("IBAN DE89-3704-0044-0532-0130-00 ok") == "IBAN [IBAN] ok"


def test_stripe_webhook_secret() -> None:
    assert redact_text(f"STRIPE_WEBHOOK_SECRET={STRIPE_WEBHOOK_SECRET}") == (
        "STRIPE_WEBHOOK_SECRET=[SECRET]"
    )


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        pytest.param("password: #45^E4gc$1", "password: [SECRET]", id="yaml-colon"),
        pytest.param("DB_PASSWORD=hunter2hunter2", "DB_PASSWORD=[SECRET]", id="env"),
        pytest.param("pwd = 'c0rrect-h0rse'", "pwd = '[SECRET]'", id="quoted"),
        pytest.param("mein Passwort: Sommer2024!", "mein Passwort: [SECRET]", id="german"),
    ],
)
def test_password_assignment(line: str, expected: str) -> None:
    assert redact_text(line) == expected


@pytest.mark.parametrize(
    "code",
    [
        pytest.param('password = os.environ["DB_PASSWORD"]', id="indirect"),
        pytest.param("DB_PASSWORD=${DB_PASSWORD}", id="templated"),
        pytest.param("api_key = settings.STRIPE_API_KEY", id="dotted-reference"),
        pytest.param("def check_password(raw_password: str) -> bool:", id="annotation"),
        pytest.param('secret_name = "prod/db"', id="name-of-a-secret"),
    ],
)
def test_code_that_only_refers_to_a_secret_survives(code: str) -> None:
    assert redact_text(code) == code


def test_invoice_number_is_not_a_phone_number() -> None:
    assert redact_text("Invoice 2024-000123 is overdue") == "Invoice 2024-000123 is overdue"


def test_obfuscated_email() -> None:
    assert redact_text("write to jane (at) example (dot) com") == "write to [EMAIL]"


def test_names_and_street_addresses_are_not_removed() -> None:
    # Documented in the consent dialog's "Learn more": no name or address detection.
    text = "I'm Jane Doe, 12 Baker Street."

    assert redact_text(text) == text


def test_a_redacted_password_is_not_redacted_again() -> None:
    # "[SECRET]" is itself a six-plus character value after "password:".
    assert redact("DB_PASSWORD=hunter2hunter2") == RedactionResult(
        "DB_PASSWORD=[SECRET]", {"SECRET": 1}
    )


def test_counts_match_the_placeholders_written_across_the_corpus() -> None:
    placeholder = re.compile(
        r"\[(?:URL_WITH_CREDENTIALS|SECRET|EMAIL|IBAN|NATIONAL_ID|CARD|IP|PHONE)\]"
    )
    for message in load_corpus():
        result = redact(message["text"], default_region=message["region"])

        added = len(placeholder.findall(result.text)) - len(placeholder.findall(message["text"]))
        assert sum(result.counts.values()) == added, message["id"]


# What the consent dialog promises is what redaction removes (issue 14): one phrase per
# category the corpus measures, and the categories it does not remove.
DIALOG_NAMES_FOR_CATEGORY = {
    "email": "email addresses",
    "phone": "phone numbers",
    "card": "payment card",
    "iban": "IBAN",
    "national_id": "national ID numbers",
    "ip": "IP addresses",
    "secret": "passwords and API keys",
}


def test_consent_dialog_names_every_measured_category_and_what_is_not_removed() -> None:
    dialog = (ROOT / "templates" / "consent" / "decide.html").read_text(encoding="utf-8")
    removed = dialog.split("What is used:", 1)[1].split("</li>", 1)[0]
    not_removed = dialog.split("What is not removed:", 1)[1].split("</p>", 1)[0]

    assert set(DIALOG_NAMES_FOR_CATEGORY) == set(STRUCTURED)
    assert all(phrase in removed for phrase in DIALOG_NAMES_FOR_CATEGORY.values())
    assert "names" in not_removed and "street addresses" in not_removed
