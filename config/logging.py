"""Log output for operators: one JSON object per line, with personal data scrubbed.

Application code logs ids and outcomes only (``extra={"record_id": ..., "choice": ...}``),
never message text, email addresses or IP addresses. ``ScrubPersonalData`` is the
safety net for what third-party code writes (django-axes, Django's request logger):
IP and email addresses in the formatted message become placeholders before any
handler writes them.
"""

import json
import logging
import re
from datetime import UTC, datetime

IP_PLACEHOLDER = "[ip]"
EMAIL_PLACEHOLDER = "[email]"

_IPV4 = re.compile(
    r"(?<![\w.])(?:(?:25[0-5]|2[0-4]\d|1?\d?\d)\.){3}(?:25[0-5]|2[0-4]\d|1?\d?\d)(?![\w.])"
)
_IPV6_CANDIDATE = re.compile(r"(?<![\w:])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?![\w:])")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

# LogRecord's own attributes: anything else on a record came from ``extra=``.
_RECORD_ATTRS = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}
_PLAIN = (str, int, float, bool, type(None))


def scrub(text: str) -> str:
    """Replace email and IP addresses in ``text`` with placeholders."""
    text = _EMAIL.sub(EMAIL_PLACEHOLDER, text)
    text = _IPV4.sub(IP_PLACEHOLDER, text)
    return _IPV6_CANDIDATE.sub(_ipv6_placeholder, text)


def _ipv6_placeholder(match: re.Match) -> str:
    # An IPv6 address has eight groups or a "::"; times such as 12:30:45 have neither.
    candidate = match.group(0)
    if "::" in candidate or candidate.count(":") == 7:
        return IP_PLACEHOLDER
    return candidate


class ScrubPersonalData(logging.Filter):
    """Rewrite the record's message with IP and email addresses replaced; never drops a record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = scrub(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        for key, value in _extras(record).items():
            if isinstance(value, str):
                setattr(record, key, scrub(value))
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plain ``extra`` fields.

    Extras that are not plain values (Django's request logger passes the request
    object) are left out rather than stringified, so a request's headers, cookies
    or body never reach the log.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update(
            {key: value for key, value in _extras(record).items() if isinstance(value, _PLAIN)}
        )
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _extras(record: logging.LogRecord) -> dict:
    return {
        k: v for k, v in vars(record).items() if k not in _RECORD_ATTRS and not k.startswith("_")
    }
