"""Bearer-token authentication and its rate limits.

Only the token authenticates: sessions are never consulted, so ``request.user`` stays
anonymous for a service's call and the consent gate (which guards signed-in *users*)
lets it through.

Two limits, both fixed windows in the shared Django cache (django-ratelimit):

- every call counts against its token (``API_RATE_LIMIT``), a revoked token's too, so a
  replayed token is held back however many addresses replay it;
- every failed token check counts against the client address (``API_TOKEN_FAILURE_RATE``).
  Past the limit the address gets 429 before any token is looked up, a valid one included,
  so a guesser learns nothing until the window ends. The address is django-ratelimit's
  ``ip`` key: ``REMOTE_ADDR`` (the peer, which a client cannot forge with a header, and what
  consent records and django-axes read), an IPv6 client's whole /64 counted as one.
"""

import logging
from collections.abc import Callable
from typing import NoReturn

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import get_usage
from ninja.security import HttpBearer

from . import errors
from .errors import ApiError
from .models import ServiceToken
from .selectors import service_token_for_secret
from .services import service_token_mark_used

RATE_LIMIT_GROUP = "api.service_token"
TOKEN_FAILURE_GROUP = "api.token_failures"
CACHE_DOWN_RETRY_AFTER = 5  # seconds

logger = logging.getLogger(__name__)


def _token_key(group: str, request: HttpRequest) -> str:
    return f"service-token:{request.auth.pk}"


def _usage(request: HttpRequest, *, group: str, key: str | Callable, rate: str, increment: bool):
    try:
        return get_usage(request, group=group, key=key, rate=rate, increment=increment)
    except Exception as exc:
        # The shared cache (Redis) is down. Fail closed with a 503 the caller can retry: a
        # service that cannot get an answer must not assume consent, and a 500 says nothing.
        logger.warning("API rate limit cache unavailable: %s", type(exc).__name__)
        raise ApiError(errors.UNAVAILABLE, status=503, retry_after=CACHE_DOWN_RETRY_AFTER) from exc


def _refuse_if_limited(usage, code: str) -> None:
    if usage is not None and usage["should_limit"]:
        # time_left is -1 when the cache answered but kept no count: retry after a pause.
        raise ApiError(code, status=429, retry_after=max(usage["time_left"], 1))


def rate_limit_check(request: HttpRequest) -> None:
    """Count this call against its token."""
    usage = _usage(
        request,
        group=RATE_LIMIT_GROUP,
        key=_token_key,
        rate=settings.API_RATE_LIMIT,
        increment=True,
    )
    _refuse_if_limited(usage, errors.RATE_LIMITED)


def token_failures_check(request: HttpRequest, *, failed: bool) -> None:
    """Refuse an address past its failed-check limit; ``failed`` counts one more failure."""
    usage = _usage(
        request,
        group=TOKEN_FAILURE_GROUP,
        key="ip",
        rate=settings.API_TOKEN_FAILURE_RATE,
        increment=failed,
    )
    _refuse_if_limited(usage, errors.TOKEN_FAILURES_LIMITED)


class ServiceTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        if not request.headers.get(self.header):
            raise ApiError(errors.TOKEN_MISSING, status=401)
        token = super().__call__(request)
        if token is None:  # another scheme than Bearer
            raise ApiError(errors.TOKEN_MISSING, status=401)
        return token

    def authenticate(self, request: HttpRequest, token: str) -> ServiceToken:
        token_failures_check(request, failed=False)
        service_token = service_token_for_secret(token.strip())
        if service_token is None:
            self._fail(request, errors.TOKEN_INVALID)
        request.auth = service_token
        rate_limit_check(request)
        if not service_token.is_active:
            self._fail(request, errors.TOKEN_REVOKED)
        service_token_mark_used(token=service_token)
        return service_token

    @staticmethod
    def _fail(request: HttpRequest, code: str) -> NoReturn:
        token_failures_check(request, failed=True)  # 429 once this failure is one too many
        raise ApiError(code, status=401)
