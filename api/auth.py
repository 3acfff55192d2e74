"""Bearer-token authentication and the per-token rate limit.

Only the token authenticates: sessions are never consulted, so ``request.user`` stays
anonymous for a service's call and the consent gate (which guards signed-in *users*)
lets it through.
"""

import logging

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
CACHE_DOWN_RETRY_AFTER = 5  # seconds

logger = logging.getLogger(__name__)


def _token_key(group: str, request: HttpRequest) -> str:
    return f"service-token:{request.auth.pk}"


def rate_limit_check(request: HttpRequest) -> None:
    """Count this call against its token (a fixed window in the shared Django cache)."""
    try:
        usage = get_usage(
            request,
            group=RATE_LIMIT_GROUP,
            key=_token_key,
            rate=settings.API_RATE_LIMIT,
            increment=True,
        )
    except Exception as exc:
        # The shared cache (Redis) is down. Fail closed with a 503 the caller can retry: a
        # service that cannot get an answer must not assume consent, and a 500 says nothing.
        logger.warning("API rate limit cache unavailable: %s", type(exc).__name__)
        raise ApiError(errors.UNAVAILABLE, status=503, retry_after=CACHE_DOWN_RETRY_AFTER) from exc
    if usage is not None and usage["should_limit"]:
        # time_left is -1 when the cache answered but kept no count: retry after a pause.
        raise ApiError(errors.RATE_LIMITED, status=429, retry_after=max(usage["time_left"], 1))


class ServiceTokenAuth(HttpBearer):
    def __call__(self, request: HttpRequest):
        if not request.headers.get(self.header):
            raise ApiError(errors.TOKEN_MISSING, status=401)
        token = super().__call__(request)
        if token is None:  # another scheme than Bearer
            raise ApiError(errors.TOKEN_MISSING, status=401)
        return token

    def authenticate(self, request: HttpRequest, token: str) -> ServiceToken:
        service_token = service_token_for_secret(token.strip())
        if service_token is None:
            raise ApiError(errors.TOKEN_INVALID, status=401)
        if not service_token.is_active:
            raise ApiError(errors.TOKEN_REVOKED, status=401)
        request.auth = service_token
        rate_limit_check(request)
        service_token_mark_used(token=service_token)
        return service_token
