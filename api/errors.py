"""Error codes and messages of the consent API; tests import these constants.

Every error body is ``{"code": <one of the codes below>, "detail": <a sentence for a person>}``
(422 adds ``errors``, the list of what failed validation).
"""

TOKEN_MISSING = "token_missing"
TOKEN_INVALID = "token_invalid"
TOKEN_REVOKED = "token_revoked"
USER_NOT_FOUND = "user_not_found"
RECORD_NOT_FOUND = "record_not_found"
NO_POLICY = "no_policy"
NOT_FOUND = "not_found"
INVALID_REQUEST = "invalid_request"
RATE_LIMITED = "rate_limited"
TOKEN_FAILURES_LIMITED = "too_many_token_failures"
METHOD_NOT_ALLOWED = "method_not_allowed"
UNAVAILABLE = "temporarily_unavailable"
SNAPSHOT_NOT_FOUND = "snapshot_not_found"
INVALID_CURSOR = "invalid_cursor"

MESSAGES = {
    TOKEN_MISSING: "Send your service token as 'Authorization: Bearer <token>'.",
    TOKEN_INVALID: "This token is not valid. Check that it was copied whole, or ask an admin for a new one.",
    TOKEN_REVOKED: "This token was revoked. Ask an admin for a new one.",
    USER_NOT_FOUND: "There is no user with this id.",
    RECORD_NOT_FOUND: "There is no consent record with this id.",
    NO_POLICY: "No data policy is in effect yet.",
    NOT_FOUND: "There is nothing at this address. See /api/v1/docs for the endpoints.",
    INVALID_REQUEST: "The request is malformed: see 'errors' for what to fix.",
    RATE_LIMITED: "Too many requests for this token. Wait the number of seconds in Retry-After, then retry.",
    TOKEN_FAILURES_LIMITED: "Too many failed token checks from this address. Wait the number of seconds in Retry-After, then retry with a valid token.",
    METHOD_NOT_ALLOWED: "This address does not answer this method: use one of those in the Allow header.",
    UNAVAILABLE: "The API cannot answer right now. Retry after the number of seconds in Retry-After.",
    SNAPSHOT_NOT_FOUND: "There is no finished training snapshot with this key.",
    INVALID_CURSOR: "This cursor was not issued by this snapshot's withdrawals feed. Pass 'since' exactly as a page returned it, or leave it out to start from the beginning.",
}


class ApiError(Exception):
    """An answer other than 200: ``code`` is machine-readable, the message is for a person."""

    def __init__(self, code: str, *, status: int, retry_after: int | None = None) -> None:
        super().__init__(MESSAGES[code])
        self.code = code
        self.status = status
        self.detail = MESSAGES[code]
        self.retry_after = retry_after
