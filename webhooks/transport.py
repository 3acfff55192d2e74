"""One HTTP POST to a checked address (requests), with short timeouts and no redirects.

The connection goes to ``Endpoint.address``, the address ``addresses.endpoint_resolve``
checked, never to whatever the name resolves to a moment later; the Host header, the TLS
server name (SNI) and the certificate check still use the host name of the URL. Sessions
are kept per endpoint and thread, so consecutive deliveries reuse a connection.
"""

import ipaddress
import threading
from dataclasses import dataclass

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter

from . import errors
from .addresses import Endpoint

EXCERPT_LENGTH = 256
# A body longer than this is not read to the end: the connection is dropped instead.
BODY_READ_LIMIT = 64 * 1024
_SESSIONS_MAX = 64


@dataclass(frozen=True)
class Outcome:
    delivered: bool
    status: int | None = None  # the HTTP status, None when nothing was answered
    excerpt: str = ""  # the first EXCERPT_LENGTH characters of the answer's body
    error: str = ""
    connected: bool = True  # False: the endpoint could not be reached at all


class _PinnedTLSAdapter(HTTPAdapter):
    """HTTPS to an IP address while SNI and the certificate check use the URL's host name."""

    def __init__(self, server_hostname: str, **kwargs):
        self._server_hostname = server_hostname
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **pool_kwargs):
        pool_kwargs["server_hostname"] = self._server_hostname
        pool_kwargs["assert_hostname"] = self._server_hostname
        super().init_poolmanager(connections, maxsize, block=block, **pool_kwargs)


# Per thread: deliveries of one batch go out on a small thread pool (webhooks.delivery).
_local = threading.local()


def _session(endpoint: Endpoint) -> requests.Session:
    _sessions = _local.__dict__.setdefault("sessions", {})
    key = (endpoint.scheme, endpoint.host, endpoint.port, endpoint.address)
    session = _sessions.get(key)
    if session is None:
        if len(_sessions) >= _SESSIONS_MAX:
            _sessions.pop(next(iter(_sessions))).close()
        session = requests.Session()
        session.trust_env = False  # no proxy from the environment: it would bypass the check
        if endpoint.scheme == "https":
            session.mount("https://", _PinnedTLSAdapter(endpoint.host))
        _sessions[key] = session
    return session


def _url(endpoint: Endpoint) -> str:
    address = endpoint.address
    literal = f"[{address}]" if isinstance(address, ipaddress.IPv6Address) else str(address)
    return f"{endpoint.scheme}://{literal}:{endpoint.port}{endpoint.target}"


def _host_header(endpoint: Endpoint) -> str:
    default = 443 if endpoint.scheme == "https" else 80
    host = f"[{endpoint.host}]" if ":" in endpoint.host else endpoint.host
    return host if endpoint.port == default else f"{host}:{endpoint.port}"


def _excerpt(response: requests.Response) -> str:
    length = response.headers.get("Content-Length", "")
    if length.isdigit() and int(length) <= BODY_READ_LIMIT:
        body = response.content  # read to the end: the connection goes back to the pool
    else:
        body = response.raw.read(EXCERPT_LENGTH * 4, decode_content=True) or b""
        response.close()  # unknown or large: never read (or store) the rest
    return body.decode("utf-8", errors="replace")[:EXCERPT_LENGTH]


def post(endpoint: Endpoint, *, body: bytes, headers: dict[str, str]) -> Outcome:
    """POST ``body``; delivered only on a 2xx answer. A redirect is a failure, not followed."""
    timeout = (settings.WEBHOOKS_CONNECT_TIMEOUT_SECONDS, settings.WEBHOOKS_READ_TIMEOUT_SECONDS)
    try:
        response = _session(endpoint).post(
            _url(endpoint),
            data=body,
            headers={
                **headers,
                "Host": _host_header(endpoint),
                "Content-Type": "application/json",
                "User-Agent": "consentgate-webhooks/1",
            },
            timeout=timeout,
            allow_redirects=False,
            stream=True,
        )
        excerpt = _excerpt(response)
    except requests.Timeout:
        return Outcome(delivered=False, error=errors.TIMED_OUT, connected=False)
    except requests.RequestException as exc:
        reason = type(exc).__name__
        return Outcome(
            delivered=False, error=errors.CONNECTION_FAILED.format(reason=reason), connected=False
        )
    status = response.status_code
    if 200 <= status < 300:
        return Outcome(delivered=True, status=status, excerpt=excerpt)
    if 300 <= status < 400:
        location = response.headers.get("Location", "")[:100]
        error = errors.REDIRECT_REFUSED.format(status=status, location=location or "none")
    else:
        error = errors.HTTP_ERROR.format(status=status)
    return Outcome(delivered=False, status=status, excerpt=excerpt, error=error[:256])
