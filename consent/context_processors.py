"""Puts the existing-user notice into every product page that needs it."""

from django.utils.functional import SimpleLazyObject

from .models import Surface
from .presenters import decision_context
from .selectors import Requirement


def consent_notice(request) -> dict:
    status = getattr(request, "consent_gate", None)
    if status is None or status.requirement is not Requirement.NOTICE:
        return {}
    # Lazy: the design is chosen, the exposure written and the form issued only
    # when a full page actually renders the notice, never for an htmx fragment.
    return {
        "consent_notice": SimpleLazyObject(
            lambda: decision_context(
                request,
                policy=status.policy,
                surface=Surface.EXISTING_NOTICE,
                next_url=request.get_full_path(),
            )
        )
    }
