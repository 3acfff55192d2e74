"""Template context for the consent surfaces (reads plus a freshly issued form)."""

import hashlib
import json

from django.http import HttpRequest
from django.utils import timezone

from .deadlines import deadline_text
from .models import Choice, Policy, Surface
from .selectors import (
    consent_records_for,
    consent_state_for,
    current_policy,
    deadline_of,
    policy_basis,
)
from .services import ServedScreen, decision_form_issue
from .wording import duration_words


def policy_facts(policy: Policy) -> dict:
    return {
        "opt_in_period": duration_words(policy.opt_in_retention),
        "opt_out_period": duration_words(policy.opt_out_retention),
    }


def _dialog_key(policy: Policy, facts: dict, variant_digest: str | None, surface: str) -> str:
    """Identifies everything the dialog's copy is rendered from (templates/consent/decide.html)."""
    deadline = deadline_of(policy)  # an editorial version's own date is not used
    parts = [policy.pk, policy.version, policy.title, deadline.isoformat()]
    parts += [facts["opt_in_period"], facts["opt_out_period"], variant_digest, surface]
    parts.append(timezone.get_current_timezone_name())  # the deadline is shown in local time
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def decision_context(*, policy: Policy, served: ServedScreen, next_url: str = "") -> dict:
    """The decision screen's context for a screen already served (consent.services)."""
    form, surface = served.form, served.form.surface
    facts = policy_facts(policy)
    return {
        "policy": policy,
        "facts": facts,
        "variant": served.choice.variant,
        "surface": surface,
        "dialog_key": _dialog_key(policy, facts, form.variant_digest, surface),
        # The decision basis's deadline, in the zone this request renders in (named if the
        # site's): said in the notice's first lines and in the lockout's first sentence.
        "deadline": deadline_text(deadline_of(policy)),
        "form_token": form.token(),
        "deferrable": surface == Surface.EXISTING_NOTICE,
        "blocking": surface in (Surface.FIRST_LOGIN, Surface.DEADLINE_GATE),
        "next_url": next_url,
    }


def privacy_settings_context(request: HttpRequest) -> dict:
    user = request.user
    policy = current_policy()
    state = consent_state_for(user)
    decided_now = (
        state is not None
        and policy is not None
        and policy_basis(policy).decided_under(state.policy_id)
    )
    context = {
        "policy": policy,
        "facts": policy_facts(policy) if policy else None,
        "state": state if decided_now else None,
        "earlier_state": state if state is not None and not decided_now else None,
        "opted_in": decided_now and state.choice == Choice.OPT_IN,
        "records": consent_records_for(user)[:50],
        "training_uses": _training_uses(user),
    }
    if policy is not None:
        form = decision_form_issue(user=user, policy=policy, surface=Surface.SETTINGS, variant=None)
        context["form_token"] = form.token()
    return context


def _training_uses(user) -> list:
    """Which of the user's conversations went into which snapshot (filled by the training app)."""
    try:
        from training.selectors import training_uses_for
    except ImportError:
        return []
    return list(training_uses_for(user))
