"""Serving a consent screen: the writes its rendering implies, kept out of the template context."""

from dataclasses import dataclass

from experiments.services import VariantChoice, choose_variant, exposure_record

from ..models import Policy
from .decision_forms import DecisionForm, decision_form_issue
from .variants import variant_choice_guard


@dataclass(frozen=True)
class ServedScreen:
    """The design chosen for one rendering of a consent screen and its one-time form."""

    choice: VariantChoice
    form: DecisionForm


def decision_screen_serve(*, user, policy: Policy, surface: str) -> ServedScreen:
    """Choose the design (a sticky experiment assignment), note the exposure, issue a form."""
    # The guard stands behind every admin check: a failing design never reaches the EU/EEA/UK.
    chosen = variant_choice_guard(user=user, surface=surface, chosen=choose_variant(user, surface))
    exposure_record(user=user, choice=chosen)
    form = decision_form_issue(
        user=user, policy=policy, surface=surface, variant=chosen.variant, arm=chosen.arm
    )
    return ServedScreen(choice=chosen, form=form)
