"""Account emails, sent from a worker so a request's answer and timing never depend on
whether an address has an account. Thin and idempotent enough: a retry sends one more copy
of the same email, never a different one. ``language`` is the asking page's language (a
worker has no request); it defaults to "" so tasks queued before it existed still run."""

from collections.abc import Callable

from celery import shared_task
from django.db import transaction

from . import services


def enqueue_after_commit(task, **kwargs) -> None:
    """Enqueue once the request's writes are committed. ``robust``: a broker outage is
    logged by Django instead of turning the page into a 500 (the person can ask again)."""
    send: Callable[[], object] = lambda: task.delay(**kwargs)  # noqa: E731
    transaction.on_commit(send, robust=True)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def send_signup_email(*, email: str, site_url: str, language: str = "") -> str:
    return services.signup_email_send(email=email, site_url=site_url, language=language)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def send_password_reset_email(
    *, email: str, domain: str, use_https: bool, language: str = ""
) -> int:
    return services.password_reset_email_send(
        email=email, domain=domain, use_https=use_https, language=language
    )


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=60, time_limit=90)
def send_email_change_emails(
    *, user_id: int, new_email: str, site_url: str, language: str = ""
) -> str:
    return services.email_change_emails_send(
        user_id=user_id, new_email=new_email, site_url=site_url, language=language
    )
