"""Serving a consent screen is one service call; building its template context writes and
reads nothing (the exposure used to be written from inside the presenter)."""

import pytest

from consent.models import Surface
from consent.presenters import decision_context
from consent.services import decision_screen_serve

pytestmark = pytest.mark.django_db


def test_the_decision_context_is_built_without_touching_the_database(
    new_user, policy, use_variant, django_assert_num_queries
):
    use_variant("two_buttons")
    served = decision_screen_serve(user=new_user, policy=policy, surface=Surface.FIRST_LOGIN)

    with django_assert_num_queries(0):
        context = decision_context(policy=policy, served=served, next_url="/conversations/")

    assert context["variant"] == served.choice.variant
    assert "form_token" not in context  # signed once the dialog is known (decision_dialog)


def test_serving_a_screen_issues_a_form_for_the_chosen_design(new_user, policy, use_variant):
    design = use_variant("two_buttons")

    served = decision_screen_serve(user=new_user, policy=policy, surface=Surface.FIRST_LOGIN)

    assert served.choice.variant == design
    assert served.form.variant_key == design.key
    assert served.form.policy_version == policy.version
    assert served.form.surface == Surface.FIRST_LOGIN
