"""The compliance lint of consent designs, per seeded design and per rule, and where it shows."""

import pytest
from django.urls import reverse

from consent.models import ModalVariant
from experiments.compliance import (
    NO_REJECT,
    NO_WITHDRAWAL,
    ONE_BUTTON_TWO_MEANINGS,
    PRE_TICKED,
    QUESTION_HIDDEN,
    UNEQUAL_PROMINENCE,
    UNLABELLED_SWITCH,
    audience_includes_gdpr,
    failing_findings,
    variant_findings,
)

pytestmark = pytest.mark.django_db


def codes(variant) -> set[str]:
    return {finding.rule.code for finding in variant_findings(variant)}


def design(key: str) -> ModalVariant:
    return ModalVariant.objects.get(key=key)


def test_announcement_design_fails_pre_ticked_reject_prominence_and_hidden_question():
    assert codes(design("accept_toggle_on")) == {
        PRE_TICKED.code,
        NO_REJECT.code,
        UNEQUAL_PROMINENCE.code,
        QUESTION_HIDDEN.code,
        ONE_BUTTON_TWO_MEANINGS.code,
    }


def test_toggle_off_design_fails_only_on_its_terms_update_headline():
    variant = design("accept_toggle_off")

    assert {f.rule.code for f in failing_findings(variant)} == {QUESTION_HIDDEN.code}
    assert ONE_BUTTON_TWO_MEANINGS.code in codes(variant)  # a warning, for a person to judge


def test_two_equal_buttons_design_passes_every_rule():
    assert variant_findings(design("two_buttons")) == []


def test_failures_are_listed_before_warnings():
    findings = variant_findings(design("accept_toggle_on"))

    assert [f.fails for f in findings] == sorted([f.fails for f in findings], reverse=True)


def test_every_finding_carries_its_citation():
    finding = next(f for f in variant_findings(design("accept_toggle_on")) if f.rule == PRE_TICKED)

    assert "Recital 32" in finding.rule.citation
    assert "C-673/17 Planet49" in finding.rule.citation
    assert "accept" in finding.detail.lower()


def test_two_buttons_without_a_decline_label_has_no_reject_on_the_first_layer():
    variant = design("two_buttons")
    variant.decline_label = " "

    assert NO_REJECT.code in {f.rule.code for f in failing_findings(variant)}


def test_emphasised_allow_button_is_unequal_prominence():
    variant = design("two_buttons")
    variant.accept_emphasis = True

    assert UNEQUAL_PROMINENCE.code in codes(variant)


def test_copy_without_a_way_to_withdraw_fails_article_7_3():
    variant = design("two_buttons")
    variant.body = "We'd like to use your conversations to help train our future models."
    variant.learn_more = "Personal details are removed first."

    finding = next(f for f in variant_findings(variant) if f.rule == NO_WITHDRAWAL)
    assert finding.rule.citation == "GDPR Art. 7(3)"


def test_privacy_settings_mention_counts_as_a_withdrawal_statement():
    variant = design("two_buttons")
    variant.body = "You can turn this off in Privacy settings."

    assert NO_WITHDRAWAL.code not in codes(variant)


def test_switch_without_label_fails():
    variant = design("accept_toggle_off")
    variant.toggle_label = ""

    assert UNLABELLED_SWITCH.code in codes(variant)


def test_headline_asking_the_training_question_is_not_hidden():
    variant = design("accept_toggle_off")
    variant.headline = "Updates to our terms: may we use your chats to train our models?"

    assert QUESTION_HIDDEN.code not in codes(variant)


@pytest.mark.parametrize(
    ("countries", "included"),
    [
        ([], True),
        (["US"], False),
        (["US", "DE"], True),
        (["NO"], True),
        (["GB"], True),
        (["CH", "CA"], False),
    ],
)
def test_gdpr_audience_detection(countries, included):
    assert audience_includes_gdpr(countries) is included


def test_findings_show_in_the_modal_variant_admin(admin_client):
    variant = design("accept_toggle_on")

    page = admin_client.get(
        reverse("admin:consent_modalvariant_change", args=[variant.pk])
    ).content.decode()

    assert "Compliance findings" in page
    assert PRE_TICKED.title in page
    assert "C-673/17 Planet49" in page


def test_compliance_column_in_the_modal_variant_list(admin_client):
    page = admin_client.get(reverse("admin:consent_modalvariant_changelist")).content.decode()

    assert "fails 4 rules" in page  # accept_toggle_on
    assert "passes" in page  # two_buttons
