"""Where a webhook may go: an http(s) URL whose host resolves only to public addresses.

Checked twice: when a subscriber is saved (a clear error in admin) and at every delivery,
where the host is resolved, every address checked, and the connection made to the checked
address (``transport``), so a DNS answer that changes between the check and the connect
(DNS rebinding) cannot steer a request to the internal network. Private, loopback,
link-local (cloud metadata at 169.254.169.254), multicast, reserved and unspecified
addresses are refused unless ``WEBHOOKS_ALLOW_PRIVATE_ADDRESSES`` (local development, tests).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings

from . import errors

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class EndpointRefused(ValueError):
    """The URL may not be called; ``str(exc)`` says why, for a person."""


@dataclass(frozen=True)
class Endpoint:
    scheme: str
    host: str  # as written in the URL: the Host header, TLS server name and certificate name
    port: int
    target: str  # path and query
    address: IPAddress  # the checked address the connection goes to


def address_refusal(address: IPAddress) -> str | None:
    """Why ``address`` is not a public unicast address, or None if it is."""
    if getattr(address, "ipv4_mapped", None) is not None:
        address = address.ipv4_mapped  # ::ffff:10.0.0.1 is 10.0.0.1
    if (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    ):
        return errors.URL_PRIVATE_ADDRESS.format(address=address)
    return None


def url_parse(url: str) -> tuple[str, str, int, str]:
    """(scheme, host, port, target) of an http(s) URL; EndpointRefused otherwise."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused(errors.URL_HOST_MISSING) from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise EndpointRefused(errors.URL_SCHEME)
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused(errors.URL_CREDENTIALS)
    if not parts.hostname:
        raise EndpointRefused(errors.URL_HOST_MISSING)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, parts.hostname, port or (443 if scheme == "https" else 80), target


def _resolve(host: str, port: int) -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise EndpointRefused(errors.URL_UNRESOLVABLE) from exc
    # Scope ids ("fe80::1%eth0") are dropped before parsing; link-local is refused anyway.
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def endpoint_resolve(url: str) -> Endpoint:
    """Resolve ``url`` and check every address it resolves to; connect only to the result.

    Every address must pass, not just the first: a name answering with one public and one
    private address would otherwise be a coin toss away from the internal network.
    """
    scheme, host, port, target = url_parse(url)
    addresses = _resolve(host, port)
    if not addresses:
        raise EndpointRefused(errors.URL_UNRESOLVABLE)
    if not settings.WEBHOOKS_ALLOW_PRIVATE_ADDRESSES:
        for address in addresses:
            refusal = address_refusal(address)
            if refusal:
                raise EndpointRefused(refusal)
    return Endpoint(scheme=scheme, host=host, port=port, target=target, address=addresses[0])
