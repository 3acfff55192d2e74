"""Puts the existing-user notice into every product page that needs it."""

from django.utils.functional import SimpleLazyObject

from .models import Surface
from .presenters import decision_context
from .selectors import Requirement
from .services import decision_screen_serve


def consent_notice(request) -> dict:
    status = getattr(request, "consent_gate", None)
    if status is None or status.requirement is not Requirement.NOTICE:
        return {}

    # Lazy: the design is chosen, the exposure written and the form issued (one service
    # call) only when a full page actually renders the notice, never for an htmx fragment.
    def notice() -> dict:
        served = decision_screen_serve(
            user=request.user, policy=status.policy, surface=Surface.EXISTING_NOTICE
        )
        return decision_context(
            policy=status.policy, served=served, next_url=request.get_full_path()
        )

    return {"consent_notice": SimpleLazyObject(notice)}
