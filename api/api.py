"""The consent API for downstream services (``/api/v1/``): read-only, token-authenticated, JSON.

Schema at ``/api/v1/openapi.json``, docs at ``/api/v1/docs`` (Swagger UI served from this
site's own static files, never a CDN, so a strict Content-Security-Policy holds).
"""

import re
from typing import Annotated
from uuid import UUID

from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET
from ninja import NinjaAPI, P, PathEx, Query, Swagger
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from consent.receipts import receipt_build
from consent.selectors import current_policy_live
from training.selectors import (
    WITHDRAWALS_PAGE_MAX,
    InvalidCursor,
    snapshot_by_key,
    snapshot_withdrawals,
)
from webhooks.schemas import openapi_add_webhooks

from . import errors
from .auth import ServiceTokenAuth
from .errors import ApiError
from .schemas import (
    ErrorOut,
    PolicyOut,
    ReceiptOut,
    TrainingEligibilityOut,
    UserConsentOut,
    ValidationErrorOut,
    WithdrawalsOut,
)
from .selectors import (
    consent_record_for_receipt,
    conversation_training_eligibility,
    user_consent_get,
)

BIGINT_MAX = 2**63 - 1  # ids are 64-bit: larger numbers are malformed (422), not unknown (404)


class ConsentGateAPI(NinjaAPI):
    def get_openapi_schema(self, **kwargs):
        # The events pushed to webhook subscribers are part of the contract too: OpenAPI
        # 3.1 documents them in a top-level "webhooks" section (webhooks.schemas).
        return openapi_add_webhooks(super().get_openapi_schema(**kwargs))


api = ConsentGateAPI(
    title="Consent gate API",
    version="1",
    description=(
        "Read-only answers for downstream services: a user's consent, whether a conversation "
        "may be used for training now, what a snapshot already taken may no longer use, "
        "consent receipts and the current policy. "
        "Authenticate with `Authorization: Bearer <service token>` (issued in admin). "
        'Errors are JSON: `{"code": ..., "detail": ...}`.'
    ),
    urls_namespace="api",
    auth=ServiceTokenAuth(),
    docs=Swagger(settings={"validatorUrl": None}),  # no badge fetched from a third party
    docs_decorator=require_GET,  # the schema and docs answer GET only, as the operations do
    docs_url="/docs",
    openapi_url="/openapi.json",
)

# Documented on every operation, so clients (and Schemathesis) know each error body. 405
# is the answer to any other method at the same path (api.views.answer_in_json).
AUTH_ERRORS = {401: ErrorOut, 405: ErrorOut, 429: ErrorOut, 503: ErrorOut}
MALFORMED = {422: ValidationErrorOut}
UNKNOWN = {404: ErrorOut}


def _error(request: HttpRequest, code: str, status: int, **extra) -> HttpResponse:
    return api.create_response(
        request, {"code": code, "detail": errors.MESSAGES[code], **extra}, status=status
    )


@api.exception_handler(ApiError)
def api_error(request: HttpRequest, exc: ApiError) -> HttpResponse:
    response = _error(request, exc.code, exc.status)
    if exc.retry_after is not None:
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(AuthenticationError)
def authentication_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return _error(request, errors.TOKEN_MISSING, 401)


@api.exception_handler(ValidationError)
def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # Only where and what: pydantic's "input"/"ctx" may echo the request back.
    items = [
        {
            "loc": list(e.get("loc", [])),
            "msg": str(e.get("msg", "")),
            "type": str(e.get("type", "")),
        }
        for e in exc.errors
    ]
    return _error(request, errors.INVALID_REQUEST, 422, errors=items)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return _error(request, errors.NOT_FOUND, 404)


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    code = errors.RATE_LIMITED if exc.status_code == 429 else errors.INVALID_REQUEST
    return _error(request, code, exc.status_code)


CANONICAL_ID = re.compile(r"[1-9][0-9]*")  # [0-9], not \d: no other script's digits


def _canonical_id(value: object) -> object:
    """Only the one spelling of a number: pydantic would also read ``03``, ``+3``, `` 3``,
    ``3.0`` and ``3_0`` as integers, so one row would answer to many addresses."""
    if isinstance(value, str) and not CANONICAL_ID.fullmatch(value):
        raise PydanticCustomError(
            "canonical_id", "Write the id in digits only: no sign, spaces, leading zeros or point."
        )
    return value


CanonicalId = Annotated[int, BeforeValidator(_canonical_id)]
UserId = PathEx[CanonicalId, P(ge=1, le=BIGINT_MAX, description="The user's id.")]
ConversationId = PathEx[CanonicalId, P(ge=1, le=BIGINT_MAX, description="The conversation's id.")]


@api.get(
    "/users/{user_id}/consent",
    response={200: UserConsentOut, **AUTH_ERRORS, **MALFORMED, **UNKNOWN},
    url_name="user_consent",
    operation_id="user_consent",
    summary="A user's current consent",
    description=(
        "What the consent gate knows about the user now: `status` is `opted_in`, "
        "`opted_out`, `undecided`, `locked_out` (undecided after the decision deadline), "
        "`no_policy` or `account_deleted`; `blocked` says whether the user must decide "
        "before using the product."
    ),
    tags=["consent"],
)
def user_consent(request: HttpRequest, user_id: UserId):
    consent = user_consent_get(user_id=user_id, now=timezone.now())
    if consent is None:
        raise ApiError(errors.USER_NOT_FOUND, status=404)
    return consent


@api.get(
    "/conversations/{conversation_id}/training-eligibility",
    response={200: TrainingEligibilityOut, **AUTH_ERRORS, **MALFORMED},
    url_name="conversation_training_eligibility",
    operation_id="conversation_training_eligibility",
    summary="May this conversation be used for training now?",
    description=(
        "`eligible` is true only if, now, the owner's current choice is opt-in under the "
        "current policy, the conversation had activity while that opt-in was in force, and "
        "neither it nor the account was deleted. Otherwise `reason` is one of `not_found` "
        "(never existed, or deleted), `user_deleted`, `no_policy`, `user_not_opted_in`, "
        "`policy_superseded` or `not_covered`. Ask again right before each use: the answer "
        "changes when the user changes their choice."
    ),
    tags=["training"],
)
def training_eligibility(request: HttpRequest, conversation_id: ConversationId):
    return conversation_training_eligibility(conversation_id=conversation_id, now=timezone.now())


@api.get(
    "/receipts/{record_id}",
    response={200: ReceiptOut, **AUTH_ERRORS, **MALFORMED, **UNKNOWN},
    url_name="receipt",
    operation_id="receipt",
    by_alias=True,
    summary="The consent receipt of one record",
    description="The ISO/IEC TS 27560 receipt, the same document the user downloads.",
    tags=["consent"],
)
def receipt(request: HttpRequest, record_id: UUID):
    record = consent_record_for_receipt(record_id)
    if record is None:
        raise ApiError(errors.RECORD_NOT_FOUND, status=404)
    return receipt_build(record)


@api.get(
    "/policy/current",
    response={200: PolicyOut, **AUTH_ERRORS, **UNKNOWN},
    url_name="policy_current",
    operation_id="policy_current",
    summary="The data policy in effect now",
    tags=["consent"],
)
def policy_current(request: HttpRequest):
    policy = current_policy_live()  # the database, not this process's memo (DESIGN §4)
    if policy is None:
        raise ApiError(errors.NO_POLICY, status=404)
    return {
        "version": policy.version,
        "title": policy.title,
        "summary": policy.summary,
        "effective_at": policy.effective_at,
        "decision_deadline": policy.decision_deadline,
        "opt_in_retention_days": policy.opt_in_retention.days,
        "opt_out_retention_days": policy.opt_out_retention.days,
        "text_sha256": policy.text_digest,
        "url": reverse("consent:policy", kwargs={"version": policy.version}),
    }


SnapshotKey = PathEx[
    str,
    P(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        min_length=1,
        max_length=64,
        description="The snapshot's key (letters, digits, '-' and '_').",
    ),
]
Cursor = Annotated[
    str | None,
    Query(
        None,
        max_length=200,
        description="The `next_cursor` (or an entry's `cursor`) of an earlier page; "
        "leave out to start from the first withdrawal.",
    ),
]
PageSize = Annotated[
    int, Query(500, ge=1, le=WITHDRAWALS_PAGE_MAX, description="Entries per page.")
]


@api.get(
    "/snapshots/{snapshot_key}/withdrawals",
    response={200: WithdrawalsOut, 400: ErrorOut, **AUTH_ERRORS, **MALFORMED, **UNKNOWN},
    url_name="snapshot_withdrawals",
    operation_id="snapshot_withdrawals",
    summary="Conversations a snapshot already taken may no longer use",
    description=(
        "Entries of the snapshot's ledger whose owner has since opted out "
        "(`opted_out`), deleted the conversation (`conversation_deleted`) or deleted "
        "the account (`account_deleted`), oldest withdrawal first: ids only. Each "
        "entry appears once, at its first withdrawal; the list only grows at its end. "
        "Page with `since`: poll with the last `next_cursor` to receive only what is "
        "new. A withdrawal is listed about 30 seconds after it happens."
    ),
    tags=["training"],
)
def withdrawals(request: HttpRequest, snapshot_key: SnapshotKey, since: Cursor, limit: PageSize):
    snapshot = snapshot_by_key(snapshot_key)
    if snapshot is None:
        raise ApiError(errors.SNAPSHOT_NOT_FOUND, status=404)
    try:
        page = snapshot_withdrawals(snapshot=snapshot, since=since, limit=limit, now=timezone.now())
    except InvalidCursor:
        raise ApiError(errors.INVALID_CURSOR, status=400) from None
    return {
        "snapshot_key": snapshot.snapshot_key,
        "withdrawals": page.items,
        "next_cursor": page.next_cursor,
    }
