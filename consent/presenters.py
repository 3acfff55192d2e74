"""Template context for the consent surfaces (reads plus a freshly issued form), and the
rendering of each consent dialog whose exact HTML is kept (consent.ServedNotice)."""

import dataclasses
import hashlib
import json
import logging
import re
import secrets
from dataclasses import dataclass

from django.core.cache import caches
from django.http import HttpRequest
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.functional import SimpleLazyObject
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language

from .compliance import jurisdiction_group
from .copy import CopyLanguage, design_in, policy_in, policy_language
from .deadlines import deadline_text
from .models import Choice, ModalVariant, Policy, Surface
from .selectors import (
    consent_records_for,
    consent_state_for,
    current_policy,
    deadline_of,
    policy_basis,
)
from .services import (
    ServedScreen,
    decision_screen_serve,
    served_notice_record,
    settings_form_serve,
)
from .shown import ShownDialog
from .wording import duration_words

DIALOG_TEMPLATE = "consent/decide.html#decision-form"
# Process-local (config.settings: CACHES["fragments"]), so a dialog costs no round trip.
DIALOG_CACHE = "fragments"
SETTINGS_CHOICE_TEMPLATE = "consent/privacy_settings.html#training-choice"

logger = logging.getLogger(__name__)


class NoDesignShowable(Exception):
    """No consent design may be shown to this person on this surface: every design offered
    there fails the compliance lint for their jurisdiction group (only a write past the
    admin checks gets here; ``consent.selectors.default_variant``)."""


def policy_facts(policy: Policy) -> dict:
    return {
        "opt_in_period": duration_words(policy.opt_in_retention),
        "opt_out_period": duration_words(policy.opt_out_retention),
    }


def _dialog_key(policy: Policy, form, surface: str, language) -> str:
    """Identifies everything the dialog is rendered from (templates/consent/decide.html)."""
    deadline = deadline_of(policy)  # an editorial version's own date is not used
    parts = [policy.pk, policy.version, policy.title, deadline.isoformat()]
    parts += [str(policy.opt_in_retention), str(policy.opt_out_retention)]
    # The design, and the consent copy in the language shown (reviewed translations).
    parts += [form.variant_digest, form.copy_digest, surface]
    parts += [language.shown, language.requested]  # the copy's language and the note's
    parts.append(timezone.get_current_timezone_name())  # the deadline is shown in local time
    parts.append(get_language())  # the copy is translated
    return hashlib.sha256(json.dumps(parts).encode()).hexdigest()


def decision_context(*, policy: Policy, served: ServedScreen, next_url: str = "") -> dict:
    """The decision screen's context for a screen already served (consent.services).

    The facts and the deadline are worked out only if a template reads them: a dialog this
    process has rendered before is not rendered again (``_dialog_render``).
    """
    form, surface, language = served.form, served.form.surface, served.language
    request_language = get_language()

    def facts() -> dict:
        with translation.override(language.shown):
            return policy_facts(policy)

    def deadline():
        # The decision basis's deadline, in the zone this request renders in (named if the
        # site's): said in the notice's first lines and in the lockout's first sentence.
        with translation.override(request_language):
            return deadline_text(deadline_of(policy))

    variant = served.choice.variant
    return {
        # The consent copy in the language it is shown in (consent.copy).
        "policy": policy_in(policy, language.shown),
        "facts": SimpleLazyObject(facts),
        "variant": design_in(variant, language.shown) if variant is not None else None,
        "copy_language": language,
        "copy_note": language.note(),
        "surface": surface,
        "dialog_key": _dialog_key(policy, form, surface, language),
        "deadline": SimpleLazyObject(deadline),
        "deferrable": surface == Surface.EXISTING_NOTICE,
        "blocking": surface in (Surface.FIRST_LOGIN, Surface.DEADLINE_GATE),
        "next_url": next_url,
    }


def _fragment(request: HttpRequest, template: str, context: dict, *, language: str) -> str:
    """A page fragment rendered once: the bytes sent are the bytes whose copy is kept.

    Rendered wholly in the consent copy's language, so a fallback to the site default
    never mixes the person's language into copy shown in another one.
    """
    with translation.override(language):
        csrf_token = context.get("csrf_token") or get_token(request)
        return render_to_string(template, {**context, "csrf_token": csrf_token})


# A dialog is the same for everyone shown this design under this policy on this surface in
# this language (``dialog_key``) but for three values nobody sees, each in a hidden input:
# the CSRF token, the one-time form token and the return address. Each process renders a
# dialog once with a marker in each of their places and fills them in per request, so the
# kept copy (hidden values blanked, consent.shown) is the same for the skeleton as for
# every dialog sent from it. The markers are unguessable, so no design's copy can hold one.
_MARKER = secrets.token_hex(8)
_HOLES = {name: f"hole-{_MARKER}-{name}" for name in ("csrf_token", "form_token", "next_url")}


@dataclass(frozen=True)
class _DialogSkeleton:
    html: str  # with the markers in place of the per-request values
    shown: ShownDialog
    pieces: tuple[str, ...]  # ``html`` cut at its markers: text, marker, text, ...

    @classmethod
    def of(cls, html: str) -> "_DialogSkeleton":
        markers = "|".join(re.escape(marker) for marker in _HOLES.values())
        return cls(
            html=html, shown=ShownDialog.of(html), pieces=tuple(re.split(f"({markers})", html))
        )

    def filled(self, values: dict[str, str]) -> str:
        """The dialog as sent: each marker replaced by its value, escaped as the template
        would have."""
        by_marker = {_HOLES[name]: escape(value) for name, value in values.items()}
        pieces = list(self.pieces)
        pieces[1::2] = [by_marker[marker] for marker in self.pieces[1::2]]
        return mark_safe("".join(pieces))  # the template's output, with escaped values


def _dialog_skeleton(request: HttpRequest, context: dict, *, language: str) -> _DialogSkeleton:
    """The dialog with markers in place of its per-request values, and as kept. An error
    message is per request: that dialog is rendered for this request alone."""
    if context.get("error") is not None:
        with translation.override(language):
            return _DialogSkeleton.of(render_to_string(DIALOG_TEMPLATE, {**context, **_HOLES}))
    # The markers are this process's own: a cache shared between processes (a deployment
    # pointing "fragments" at Redis) must never hand one process another's skeleton.
    key = f"consent-dialog:{_MARKER}:{context['dialog_key']}"
    skeleton = caches[DIALOG_CACHE].get(key)
    if skeleton is None:
        with translation.override(language):
            skeleton = _DialogSkeleton.of(render_to_string(DIALOG_TEMPLATE, {**context, **_HOLES}))
        caches[DIALOG_CACHE].set(key, skeleton)
    return skeleton


def decision_dialog(
    request: HttpRequest, *, policy: Policy, surface: str, next_url: str = "", error=None
) -> dict:
    """Serve a consent screen: the decision context plus ``dialog_html``, the dialog as
    sent, whose serving and exact copy are kept (``consent.services.served_notice_record``).

    The form is signed once the dialog it sits in is known, and carries that dialog's
    digest: the serving is written behind the request (``consent.services.servings_behind``)
    and its answer can insert it if it is not there yet.

    Raises ``NoDesignShowable`` (logged, with ids only) when no design may be shown.
    """
    try:
        served = decision_screen_serve(
            user=request.user, policy=policy, surface=surface, requested_language=get_language()
        )
    except ModalVariant.DoesNotExist as exc:
        # Raised before the exposure, the form and the serving: nothing was written.
        user = request.user
        logger.error(
            "no consent design may be shown; the decision screen is unavailable",
            extra={
                "user_id": user.pk,
                "policy_id": policy.pk,
                "surface": str(surface),
                "jurisdiction_group": str(jurisdiction_group(getattr(user, "country", ""))),
            },
        )
        raise NoDesignShowable(surface) from exc
    context = decision_context(policy=policy, served=served, next_url=next_url)
    if error is not None:
        context["error"] = error
    skeleton = _dialog_skeleton(request, context, language=served.language.shown)
    form = dataclasses.replace(served.form, shown_copy_id=skeleton.shown.digest)
    # The page's forms and the dialog's share one masked token: masking costs per call.
    context["csrf_token"] = get_token(request)
    context["form_token"] = form.token()
    served_notice_record(
        form=form,
        policy=policy,
        variant=served.choice.variant,
        arm=served.choice.arm,
        rendered=skeleton.shown,
        written_behind=True,
    )
    context["dialog_html"] = skeleton.filled(
        {name: context[name] for name in ("csrf_token", "form_token", "next_url")}
    )
    return context


def privacy_settings_context(request: HttpRequest, *, gate) -> dict:
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
        "gate": gate,
    }
    # The change form is a consent surface like any dialog: its serving and exact copy are
    # kept. While the gate blocks, the section is read-only and offers no decision.
    form = None
    shown_language = get_language()
    if policy is not None and not gate.blocks:
        form = settings_form_serve(user=user, policy=policy, requested_language=get_language())
        context["form_token"] = form.token()
        shown_language = form.language
        context["policy"] = policy_in(policy, form.language)
        if form.language != form.requested_language:
            context["copy_note"] = CopyLanguage(form.requested_language, form.language).note()
    html = _fragment(request, SETTINGS_CHOICE_TEMPLATE, context, language=shown_language)
    if form is not None:
        served_notice_record(form=form, policy=policy, variant=None, arm=None, rendered=html)
    context["training_choice_html"] = html
    return context


def policy_page_context(policy: Policy) -> dict:
    """The public policy page: the text in the reader's language if a reviewed translation
    exists, else in the site default with a note (consent.copy)."""
    language = policy_language(policy=policy, requested=get_language())
    return {
        "policy": policy_in(policy, language.shown),
        "copy_language": language,
        "copy_note": language.note(),
    }
