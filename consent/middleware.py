"""The consent gate: undecided users are stopped before any product view runs.

It asks the database nothing of its own: a signed-in user's choice under the
current policy arrives with the user (``consent.backends``), anonymous requests
need none, and static files never reach it (WhiteNoise answers them first). What
stays open to a stopped user is one list, ``consent.gate.GATE_ALLOW_LIST``.
"""

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import reverse
from django.utils.http import urlencode
from django_htmx.http import HttpResponseClientRedirect

from . import errors
from .gate import gate_allows
from .selectors import gate_status


def wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") or (
        request.accepts("application/json") and not request.accepts("text/html")
    )


def decision_url(request: HttpRequest) -> str:
    url = reverse("consent:decide")
    if request.method == "GET" and not getattr(request, "htmx", False):
        return f"{url}?{urlencode({'next': request.get_full_path()})}"
    return url


class ConsentGateMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if gate_allows(request.resolver_match):
            return None
        user = request.user
        if not user.is_authenticated:
            return None
        status = gate_status(user=user, session=request.session)
        request.consent_gate = status
        if not status.blocks:
            return None
        if wants_json(request):
            return JsonResponse(
                {
                    "error": "consent_required",
                    "reason": status.requirement.value,
                    "policy": status.policy.version,
                    "detail": errors.CONSENT_REQUIRED,
                    "decide_url": reverse("consent:decide"),
                },
                status=403,
            )
        if getattr(request, "htmx", False):
            return HttpResponseClientRedirect(decision_url(request))
        response = HttpResponseRedirect(decision_url(request))
        response.status_code = 303
        return response
