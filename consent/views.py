"""Consent screens: the decision screen, "Not now", policy text, receipts, privacy settings."""

from csp.decorators import csp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, reswap, trigger_client_event

from config.http import HtmxHttpRequest

from . import errors, replies
from .errors import ConsentError
from .forms import DecisionSubmissionForm, DeferSubmissionForm
from .models import ConsentRecord, Policy, Surface
from .presenters import (
    NoDesignShowable,
    decision_dialog,
    policy_page_context,
    privacy_settings_context,
)
from .receipts import receipt_build, receipt_page_context
from .selectors import consent_record_get_for, current_policy, gate_status, policy_basis
from .services import (
    Decision,
    RequestContext,
    Submission,
    consent_decision_submit,
    notice_defer_submit,
)
from .shown import shown_for_display


def _safe_next(request: HttpRequest, candidate: str | None) -> str:
    # A path on this site only: redirect() reads a bare word ("0", "home") as a view name
    # and raised NoReverseMatch, a 500 (found by tests/test_fuzz_forms.py).
    if (
        candidate
        and candidate.startswith("/")
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return reverse("conversations:list")


def _error(request: HtmxHttpRequest, error: ConsentError) -> HttpResponse:
    if request.htmx:
        response = render(
            request, "consent/error.html#consent-error", {"error": error}, status=error.status
        )
        return response
    return render(request, "consent/error.html", {"error": error}, status=error.status)


@login_required
@require_http_methods(["GET", "POST"])
def decide(request: HtmxHttpRequest) -> HttpResponse:
    """The decision screen: blocking for new users and after the deadline, else the notice page."""
    if request.method == "POST":
        return _decide_post(request)
    next_url = _safe_next(request, request.GET.get("next"))
    status = gate_status(user=request.user, session=request.session)
    if status.policy is None or status.choice:
        return redirect(next_url)
    return _decision_screen(request, status=status, next_url=next_url)


def _decision_screen(
    request: HtmxHttpRequest, *, status, next_url: str, error: ConsentError | None = None
) -> HttpResponse:
    surface = status.surface or Surface.EXISTING_NOTICE
    try:
        context = decision_dialog(
            request, policy=status.policy, surface=surface, next_url=next_url, error=error
        )
    except NoDesignShowable:
        return _no_design(request, policy=status.policy, blocking=status.blocks)
    if error is None:
        return render(request, "consent/decide.html", context)
    if request.htmx:  # the new form replaces the old dialog in place
        response = HttpResponse(context["dialog_html"], status=error.status)
        return reswap(response, "outerHTML")
    return render(request, "consent/decide.html", context, status=error.status)


def _no_design(request: HtmxHttpRequest, *, policy: Policy, blocking: bool) -> HttpResponse:
    """No design may be shown (logged by consent.presenters): say so, and keep the way to
    data rights and out open (consent.gate). 503: the fault is the site's, not theirs."""
    if request.htmx:  # htmx swaps no 5xx answer (base.html): load the page itself
        return HttpResponseClientRedirect(reverse("consent:decide"))
    context = {"policy": policy, "blocking": blocking}
    return render(request, "consent/no_design.html", context, status=503)


def _superseded(request: HtmxHttpRequest, error: ConsentError, next_url: str) -> HttpResponse:
    """A form rendered under an older policy: show the live policy's form, with the reason.

    Nothing was recorded: not under the old policy, and not under the new one, whose text
    the person has not read yet.
    """
    status = gate_status(user=request.user, session=request.session, live_policy=True)
    if status.policy is None or status.choice:
        return _error(request, error)
    return _decision_screen(request, status=status, next_url=next_url, error=error)


def _decide_post(request: HtmxHttpRequest) -> HttpResponse:
    form = DecisionSubmissionForm(request.POST)
    if not form.is_valid():
        return _error(request, _form_error(form))
    data = form.cleaned_data
    submission = Submission(
        token=data["form_token"],
        decision=data["decision"],
        toggle_on=data["training"],
        toggle_touched=data["toggle_touched"],
        learn_more_opened=data["learn_more_opened"],
    )
    next_url = _safe_next(request, data["next"])
    try:
        decision = consent_decision_submit(
            user=request.user, submission=submission, context=RequestContext.from_request(request)
        )
    except ConsentError as error:
        if error.code == "policy_superseded":
            return _superseded(request, error, next_url)
        return _error(request, error)
    record = decision.record
    _decision_message(request, decision)
    if not request.htmx:
        return redirect(next_url)
    if record.surface == Surface.EXISTING_NOTICE and not decision.replayed:
        response = render(
            request,
            "consent/decided.html#decision-saved",
            {"record": record, "next_url": next_url},
        )
        return trigger_client_event(response, "consentDecided", {"choice": record.choice})
    return HttpResponseClientRedirect(next_url)


def _form_error(form) -> ConsentError:
    if "decision" in form.errors:
        return ConsentError(errors.INVALID_CHOICE, code="invalid_choice")
    return ConsentError(errors.FORM_TAMPERED, code="form_tampered")


def _decision_message(request: HttpRequest, decision: Decision) -> None:
    """What was saved; for a replayed form, what is true now (nothing new was saved)."""
    if decision.replayed:
        text = replies.already_recorded(
            recorded_at=decision.record.decided_at, current_choice=decision.current_choice
        )
        messages.info(request, text)
    else:
        messages.success(request, replies.saved(decision.record.choice))


@login_required
@require_POST
def defer(request: HtmxHttpRequest) -> HttpResponse:
    """'Not now' on the existing-user notice."""
    form = DeferSubmissionForm(request.POST)
    if not form.is_valid():
        return _error(request, ConsentError(errors.FORM_TAMPERED))
    next_url = _safe_next(request, form.cleaned_data["next"])
    try:
        deferral = notice_defer_submit(
            user=request.user, token=form.cleaned_data["form_token"], session=request.session
        )
    except ConsentError as error:
        if error.code == "policy_superseded":
            return _superseded(request, error, next_url)
        return _error(request, error)
    if deferral.replayed:
        text = replies.already_recorded(
            recorded_at=deferral.recorded_at, current_choice=deferral.current_choice
        )
        messages.info(request, text)
        if request.htmx:
            return HttpResponseClientRedirect(next_url)
        return redirect(next_url)
    text = replies.deferred(
        hidden_until=deferral.deferral.hidden_until,
        deadline=policy_basis(deferral.deferral.policy).deadline,
    )
    if request.htmx:
        # The page shows the same words a page load would (static/js/consent.js).
        return trigger_client_event(HttpResponse(""), "consentDeferred", {"message": text})
    messages.info(request, text)
    return redirect(next_url)


@require_GET
def policy_detail(request: HttpRequest, version: str | None = None) -> HttpResponse:
    """The policy text: public, and reachable while locked out."""
    if version is None:
        policy = current_policy()
        if policy is None:
            raise Http404("No data policy is in effect yet.")
    else:
        policy = get_object_or_404(Policy, version=version)
    return render(request, "consent/policy.html", policy_page_context(policy))


def _own_record(request: HttpRequest, record_id) -> ConsentRecord:
    try:
        return consent_record_get_for(request.user, record_id)
    except ConsentRecord.DoesNotExist as exc:
        raise Http404("No such consent record.") from exc


@login_required
@require_GET
def receipt(request: HttpRequest, record_id) -> HttpResponse:
    record = _own_record(request, record_id)
    # In the language the person decided in, whatever the page's language is now.
    with translation.override(record.language or get_language()):
        return render(request, "consent/receipt.html", receipt_page_context(record))


# What a stored dialog may do when read again: show itself, with the site's styles, and
# nothing else: no script (a stored copy is data, never code), no form submission.
SHOWN_COPY_CSP = {
    "default-src": ["'none'"],
    "style-src": ["'self'"],
    "img-src": ["'self'"],
    "script-src": ["'none'"],
    "form-action": ["'none'"],
    "base-uri": ["'none'"],
    "frame-ancestors": ["'none'"],
}


@csp(SHOWN_COPY_CSP)
def shown_copy_page(request: HttpRequest, record: ConsentRecord, *, back_url: str) -> HttpResponse:
    """Exactly what a record's decision showed, read-only (staff reach it from admin too)."""
    if record.shown_copy_id is None:
        raise Http404(errors.SHOWN_COPY_MISSING)
    serving = record.served_notice
    context = {
        "record": record,
        "serving": serving,
        # Rendered by this site's own (autoescaping) template when it was shown; and the
        # page's policy lets no script run should a stored copy ever hold one.
        "shown_html": mark_safe(shown_for_display(record.shown_copy.html)),
        "back_url": back_url,
    }
    return render(request, "consent/shown_copy.html", context)


@login_required
@require_GET
def receipt_shown(request: HttpRequest, record_id) -> HttpResponse:
    """The person's own "show me exactly what I saw"; another person's record is a 404."""
    record = _own_record(request, record_id)
    return shown_copy_page(request, record, back_url=reverse("consent:receipt", args=[record.pk]))


@login_required
@require_GET
def receipt_json(request: HttpRequest, record_id) -> JsonResponse:
    record = _own_record(request, record_id)
    response = JsonResponse(receipt_build(record), json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="consent-receipt-{record.pk}.json"'
    return response


@login_required
@require_GET
def privacy_settings(request: HttpRequest) -> HttpResponse:
    """Open past the consent gate (consent.gate), but read-only while it blocks: the first
    answer is given on the decision screen, whose record proves what was shown."""
    # Also read by the notice's context processor: the deferrable notice still shows here.
    request.consent_gate = gate = gate_status(user=request.user, session=request.session)
    context = privacy_settings_context(request, gate=gate)
    return render(request, "consent/privacy_settings.html", context)


@login_required
@require_POST
def privacy_change(request: HtmxHttpRequest) -> HttpResponse:
    """The one-step change in privacy settings: as easy to withdraw as to give."""
    form = DecisionSubmissionForm(request.POST)
    if not form.is_valid():
        return _error(request, _form_error(form))
    submission = Submission(
        token=form.cleaned_data["form_token"], decision=form.cleaned_data["decision"]
    )
    try:
        decision = consent_decision_submit(
            user=request.user, submission=submission, context=RequestContext.from_request(request)
        )
    except ConsentError as error:
        return _error(request, error)
    _decision_message(request, decision)
    return redirect("consent:privacy_settings")
