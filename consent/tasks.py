"""Beat-driven consent bookkeeping; thin wrappers over services, safe to rerun."""

import logging

from celery import shared_task

from . import services
from .verification import evidence_verify_and_record

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def send_deadline_reminders(batch_size: int = 500) -> dict[str, int]:
    return services.deadline_reminders_send(batch_size=batch_size)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=600, time_limit=660)
def record_lockouts(batch_size: int = 1000) -> int:
    return services.lockouts_record(batch_size=batch_size)


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3300)
def verify_consent_chains() -> int:
    breaks = 0
    for chain_break in services.consent_chains_verify():
        breaks += 1
        logger.error("consent chain broken: %s", chain_break)
    if not breaks:
        logger.info("every consent chain verifies")
    return breaks


@shared_task(acks_late=True, ignore_result=True, soft_time_limit=3000, time_limit=3300)
def verify_evidence() -> int:
    # Findings are logged at ERROR and kept as an evidence.VerificationRun for admin.
    report, _ = evidence_verify_and_record()
    return len(report.findings)
