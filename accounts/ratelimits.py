"""Limits on everything that sends an email for an anonymous or unverified request.

Each flow counts per client address and per target email in the shared Django cache
(django-ratelimit): the first stops one client mailing many addresses, the second many
clients mailing one address. The counts are the same whether or not the email has an
account, so a refusal tells nothing about that.
"""

import logging

from django.conf import settings
from django.http import HttpRequest
from django_ratelimit.core import is_ratelimited

logger = logging.getLogger(__name__)

PER_CLIENT_RATE = getattr(settings, "ACCOUNTS_EMAIL_RATE_PER_CLIENT", "20/h")
PER_EMAIL_RATE = getattr(settings, "ACCOUNTS_EMAIL_RATE_PER_EMAIL", "5/h")


def email_request_limited(request: HttpRequest, *, flow: str, email: str) -> bool:
    """Count one request of ``flow`` for this client and this email; True if over a limit."""
    try:
        # Both counters advance on every request, so neither can be dodged through the other.
        by_client = is_ratelimited(
            request,
            group=f"accounts.{flow}.client",
            key="ip",
            rate=PER_CLIENT_RATE,
            increment=True,
        )
        by_email = is_ratelimited(
            request,
            group=f"accounts.{flow}.email",
            key=lambda group, request: email,
            rate=PER_EMAIL_RATE,
            increment=True,
        )
    except Exception as exc:
        # The shared cache is down: refuse rather than let anyone mail anyone without limit.
        logger.warning("account email rate limit cache unavailable: %s", type(exc).__name__)
        return True
    return by_client or by_email
