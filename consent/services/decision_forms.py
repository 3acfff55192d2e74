"""Decision forms: issued signed and one-time as a consent screen renders, checked as posted."""

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.core import signing
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from .. import errors
from ..copy import base_language, copy_digest, design_in, translations_memo
from ..designs import design_source
from ..errors import ConsentError
from ..models import Choice, ConsentRecord, ModalVariant, Policy, Surface
from ..selectors import current_policy, policies_memo, variant_by_key, variants_memo

FORM_SALT = "consent.decision-form"


@dataclass(frozen=True)
class RequestContext:
    """What a record keeps of the request: never the raw IP address."""

    ip_hash: str = ""
    user_agent: str = ""
    locale: str = ""

    @classmethod
    def from_request(cls, request) -> "RequestContext":
        ip = request.META.get("REMOTE_ADDR", "")
        ip_hash = hashlib.sha256(f"{settings.SECRET_KEY}:{ip}".encode()).hexdigest() if ip else ""
        return cls(
            ip_hash=ip_hash,
            user_agent=request.META.get("HTTP_USER_AGENT", "")[:400],
            locale=(getattr(request, "LANGUAGE_CODE", "") or "")[:35],
        )


@dataclass(frozen=True)
class DecisionForm:
    """The signed facts of one rendered decision form."""

    key: str
    user_id: int
    policy_version: str
    surface: str
    variant_key: str | None
    variant_digest: str | None  # snapshot_digest() of the design's copy rendered, in `language`
    arm_id: int | None
    shown_at: datetime
    # The consent.ServedNotice row of the rendering that carried this form.
    served_id: uuid.UUID | None = None
    # The language the copy was shown in, the one asked for, and the digest of that
    # language's copy (consent.copy); None on forms issued before copy was per language.
    language: str | None = None
    requested_language: str | None = None
    copy_digest: str | None = None
    # The digest of the dialog as shown (consent.ShownCopy), when the form is issued after
    # it is known: the answer can then insert the serving itself if it is not written yet.
    shown_copy_id: str | None = None

    def token(self) -> str:
        return signing.dumps(
            {
                "k": self.key,
                "u": self.user_id,
                "p": self.policy_version,
                "s": self.surface,
                "v": self.variant_key,
                "d": self.variant_digest,
                "a": self.arm_id,
                "t": self.shown_at.isoformat(),
                "n": str(self.served_id) if self.served_id else None,
                "l": self.language,
                "r": self.requested_language,
                "c": self.copy_digest,
                "h": self.shown_copy_id,
            },
            salt=FORM_SALT,
        )


@dataclass(frozen=True)
class Submission:
    """A decision form as posted: the signed token plus what the person did.

    ``toggle_touched`` and ``learn_more_opened`` are reported by the browser's script:
    records store them as reported, and say so wherever they are shown.
    """

    token: str
    decision: str
    toggle_on: bool = False
    toggle_touched: bool = False
    learn_more_opened: bool = False


def decision_form_issue(
    *,
    user,
    policy: Policy,
    surface: str,
    variant: ModalVariant | None,
    arm=None,
    served_id: uuid.UUID | None = None,
    language: str | None = None,
    requested_language: str | None = None,
) -> DecisionForm:
    """A new one-time form for the user; the server's clock fixes ``shown_at``.

    ``served_id`` names the serving that will carry the form (consent.services.surfaces).
    ``language`` is the language the copy is shown in, as ``consent.copy.dialog_language``
    chose it (the site default if not given); the form carries that language's digests.
    """
    language = language or base_language()
    return DecisionForm(
        key=secrets.token_hex(16),
        user_id=user.pk,
        policy_version=policy.version,
        surface=surface,
        variant_key=variant.key if variant else None,
        variant_digest=design_in(variant, language).snapshot_digest() if variant else None,
        arm_id=arm.pk if arm else None,
        shown_at=timezone.now(),
        served_id=served_id,
        language=language,
        requested_language=requested_language or language,
        copy_digest=copy_digest(policy=policy, variant=variant, language=language),
    )


def _tampered() -> ConsentError:
    return ConsentError(errors.FORM_TAMPERED, status=400, code="form_tampered")


def decision_form_load(token: str, *, user) -> DecisionForm:
    """Verify a submitted form token: signature, age, owner. Raises ConsentError."""
    try:
        data = signing.loads(token, salt=FORM_SALT, max_age=settings.CONSENT_FORM_MAX_AGE_SECONDS)
    except signing.SignatureExpired as exc:
        raise ConsentError(errors.FORM_EXPIRED, status=400, code="form_expired") from exc
    except signing.BadSignature as exc:
        raise _tampered() from exc
    try:
        form = DecisionForm(
            key=str(data["k"]),
            user_id=int(data["u"]),
            policy_version=str(data["p"]),
            surface=str(data["s"]),
            variant_key=data["v"],
            variant_digest=data.get("d"),
            arm_id=data["a"],
            shown_at=parse_datetime(data["t"]),
            served_id=uuid.UUID(str(data["n"])) if data.get("n") else None,
            language=data.get("l"),
            requested_language=data.get("r"),
            copy_digest=data.get("c"),
            shown_copy_id=data.get("h"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise _tampered() from exc
    if form.user_id != user.pk:
        raise ConsentError(errors.FORM_OTHER_USER, status=403, code="form_other_user")
    if form.surface not in Surface.values or form.shown_at is None:
        raise _tampered()
    return form


def choice_from_submission(*, variant: ModalVariant | None, decision: str, toggle_on: bool) -> str:
    """Map the pressed button (and the toggle, on toggle designs) to a choice.

    On toggle designs Accept submits the toggle's current state, so accepting
    without touching a default-on toggle opts in: that is the design under test.
    """
    if variant is not None and variant.has_toggle:
        if decision != "accept":
            raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")
        return Choice.OPT_IN if toggle_on else Choice.OPT_OUT
    if decision in Choice.values:
        return decision
    raise ConsentError(errors.INVALID_CHOICE, code="invalid_choice")


def _variant_as_shown(form: DecisionForm) -> ModalVariant | None:
    """The design the form was rendered with, exactly as it read then, or ConsentError.

    The record freezes the design's copy as evidence of what the person saw, so a form
    rendered before an admin edited the wording (in the language shown) is refused rather
    than recorded with wording the person never read. The design comes back with its copy
    in the form's language (``consent.copy.design_in``).
    """
    if not form.variant_key:
        return None
    language = form.language or base_language()
    variant = variant_by_key(form.variant_key)
    if variant is None or design_in(variant, language).snapshot_digest() != form.variant_digest:
        # This process's memos may be older than the one that rendered the form.
        variants_memo.forget()
        translations_memo.forget()
        variant = ModalVariant.objects.filter(key=form.variant_key).first()
        if variant is None:
            raise _tampered()
        if design_in(variant, language).snapshot_digest() != form.variant_digest:
            raise ConsentError(errors.DESIGN_CHANGED, status=409, code="design_changed")
    return design_in(variant, language)


def _policy_as_shown(form: DecisionForm) -> Policy:
    """The policy the form was rendered under, if it is still the one in effect.

    A first check from this process's memo; the decision is checked again against the
    database under the user's lock (decisions.policy_live_check), which is what counts.
    """
    policy = current_policy()
    if policy is not None and policy.version == form.policy_version:
        return policy
    # The memo may be older than the process that rendered the form: ask the database.
    policies_memo.forget()
    policy = Policy.objects.filter(version=form.policy_version).first()
    if policy is None:
        raise _tampered()
    return policy


def form_targets(form: DecisionForm) -> tuple[Policy, ModalVariant | None, object | None]:
    """The policy, design and arm a posted form names, each checked; else ConsentError."""
    policy = _policy_as_shown(form)
    variant = _variant_as_shown(form)
    # The arm model as the record's own foreign key names it (experiments.Arm), so consent
    # needs no import of experiments (consent.designs).
    arm_model = ConsentRecord._meta.get_field("arm").related_model
    try:
        arm = arm_model.objects.get(pk=form.arm_id) if form.arm_id else None
    except arm_model.DoesNotExist as exc:
        raise _tampered() from exc
    if arm is not None and arm.variant_id != getattr(variant, "pk", None):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")
    if arm is not None and not design_source().arm_offered(form.user_id, arm):
        raise ConsentError(errors.VARIANT_NOT_OFFERED, code="variant_not_offered")
    if form.copy_digest is not None and not _copy_as_shown(form, policy, variant):
        # The policy's text in the language shown changed since the form was rendered.
        raise ConsentError(errors.DESIGN_CHANGED, status=409, code="design_changed")
    return policy, variant, arm


def _copy_as_shown(form: DecisionForm, policy: Policy, variant: ModalVariant | None) -> bool:
    """Whether the consent copy in the form's language still hashes as when it was shown."""
    language = form.language or base_language()
    if copy_digest(policy=policy, variant=variant, language=language) == form.copy_digest:
        return True
    translations_memo.forget()  # this process's memo may be older than the form
    return copy_digest(policy=policy, variant=variant, language=language) == form.copy_digest
