"""Request and response shapes of the consent API (they are the OpenAPI schema)."""

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from training.selectors import WithdrawalReason

from .selectors import ConsentStatus, IneligibleReason


class ErrorOut(Schema):
    code: str
    detail: str


class ValidationErrorItem(Schema):
    loc: list[str | int]
    msg: str
    type: str


class ValidationErrorOut(ErrorOut):
    errors: list[ValidationErrorItem]


class UserConsentOut(Schema):
    user_id: int
    status: ConsentStatus
    requirement: Literal["none", "notice", "first_login", "deadline"]
    blocked: bool
    policy_version: str | None
    decision_deadline: datetime | None
    choice: Literal["opt_in", "opt_out"] | None
    decided_at: datetime | None
    latest_record_id: UUID | None


class TrainingEligibilityOut(Schema):
    conversation_id: int
    eligible: bool
    reason: IneligibleReason | None
    user_id: int | None
    policy_version: str | None
    covered_by_record_id: UUID | None
    checked_at: datetime


class WithdrawalOut(Schema):
    conversation_id: int
    user: str = Field(description="The pseudonymous user id the snapshot's files carry.")
    reason: WithdrawalReason
    withdrawn_at: datetime
    cursor: str = Field(description="Pass as `since` to continue after this entry.")


class WithdrawalsOut(Schema):
    snapshot_key: str
    withdrawals: list[WithdrawalOut]
    next_cursor: str | None = Field(
        description="Pass as `since` next time: the last entry's cursor, else the `since` sent."
    )


class PolicyOut(Schema):
    version: str
    title: str
    summary: str
    effective_at: datetime
    decision_deadline: datetime
    opt_in_retention_days: int
    opt_out_retention_days: int
    text_sha256: str
    url: str


# The receipt mirrors consent.receipts.receipt_build field for field; times stay the
# ISO 8601 strings the receipt holds, so the document is byte-for-byte the user's own.


class ReceiptControllerOut(Schema):
    name: str
    identifier: str
    role: str
    address: str
    contact: str
    url: str


class ReceiptNoticeOut(Schema):
    type: str
    language: str
    policy_version: str
    policy_title: str
    policy_digest_sha256: str
    policy_url: str
    design: dict[str, Any] | None
    served_notice_id: str | None
    shown_copy_sha256: str | None
    shown_copy_url: str | None


class ReceiptPersonalDataOut(Schema):
    type: str
    description: str


class ReceiptStorageConditionOut(Schema):
    type: str
    description: str
    duration: str | None = None
    location: str | None = None


class ReceiptRecipientOut(Schema):
    name: str
    role: str
    description: str


class ReceiptRightOut(Schema):
    right: str
    title: str
    exercised_at: str | None


class ReceiptValidityOut(Schema):
    type: str
    description: str


class ReceiptExpressedByOut(Schema):
    role: str
    id: str


class ReceiptEventOut(Schema):
    type: str
    time: str
    shown_at: str
    surface: str
    consent_type: str
    validity: ReceiptValidityOut
    expressed_by: ReceiptExpressedByOut
    toggle_default: bool | None
    toggle_touched: bool
    learn_more_opened: bool
    reported_by: dict[str, str]


class ReceiptContextOut(Schema):
    ip_address_sha256: str | None
    user_agent: str | None
    locale: str | None


class ReceiptIntegrityOut(Schema):
    previous_record_id: str | None
    record_hash_sha256: str


class ReceiptOut(Schema):
    # Keys that would shadow pydantic names or are not identifiers are renamed here; their
    # JSON keys are not.
    jsonld_context: dict[str, Any] = Field(alias="@context")
    jsonld_type: str = Field(alias="@type")
    schema_: str = Field(alias="schema")
    conforms_to: str
    receipt_id: str
    created_at: str
    record_id: str
    receipt_url: str
    principal_id: str
    controller: ReceiptControllerOut
    notice: ReceiptNoticeOut
    purpose: str
    purpose_types: list[str]
    personal_data: list[ReceiptPersonalDataOut]
    processing: list[str]
    storage_conditions: list[ReceiptStorageConditionOut]
    retention_period_days: int
    recipients: list[ReceiptRecipientOut]
    rights: list[ReceiptRightOut]
    jurisdictions: list[str]
    jurisdiction: str | None
    legal_basis: str
    withdrawal_method: str
    event: ReceiptEventOut
    state: str
    choice: Literal["opt_in", "opt_out"]
    context: ReceiptContextOut
    integrity: ReceiptIntegrityOut
    anchored_evidence: dict[str, Any] | None = Field(
        description="The inclusion proof under a signed tree head (tools/verify_receipt.py), "
        "or null until a checkpoint covers the record."
    )
