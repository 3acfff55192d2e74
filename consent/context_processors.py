"""Puts the existing-user notice into every product page that needs it."""

from django.utils.functional import SimpleLazyObject

from .models import Surface
from .presenters import NoDesignShowable, decision_dialog
from .selectors import Requirement


def consent_notice(request) -> dict:
    status = getattr(request, "consent_gate", None)
    if status is None or status.requirement is not Requirement.NOTICE:
        return {}

    # Lazy: the design is chosen, the exposure and the serving written and the form issued
    # only when a full page actually renders the notice, never for an htmx fragment.
    def notice() -> dict | None:
        try:
            return decision_dialog(
                request,
                policy=status.policy,
                surface=Surface.EXISTING_NOTICE,
                next_url=request.get_full_path(),
            )
        except NoDesignShowable:
            # The notice can wait (the deadline has not passed), the page cannot: it is
            # shown without one (logged by decision_dialog), and the decision screen says why.
            return None

    return {"consent_notice": SimpleLazyObject(notice)}
