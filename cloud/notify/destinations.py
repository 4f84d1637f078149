"""Where a webhook may send: the public internet, and the on-premise receivers named in
``VOLTRENT_WEBHOOK_ALLOW``; never the cloud's own network.

A webhook's URL is chosen by a tenant and POSTed to from inside the cloud, so without this
it would be a way in: to the metadata service at 169.254.169.254, to PostgreSQL's or the
broker's port on 127.0.0.1, to anything on the private network. An address is refused
unless it is public (``ipaddress``'s ``is_global``, and not multicast or reserved; an IPv4
address carried in IPv6 is judged as itself) or inside a network of the allow list; a host
named in the allow list may resolve to anything.

The API checks a URL when it is saved (``refusal``: a 422 naming ``url``), and the notifier
checks it again at every delivery (``resolve``), since DNS answers change: the host is
resolved once, every address it resolves to must pass, and the sender connects to those
very addresses, so an answer that changes between the check and the connection (DNS
rebinding) cannot steer the request anywhere else.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from cloud.allow_list import ALLOW_VARIABLE, Address, AllowList, embedded_ipv4
from cloud.errors import CloudError

SCHEMES = {"http": 80, "https": 443}
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")


class Refused(CloudError, ValueError):
    """The destination is not one a webhook may reach (the message says why)."""


class Unresolved(CloudError, OSError):
    """The host does not resolve (now)."""


@dataclass(frozen=True)
class Destination:
    """A checked URL: connect to one of ``addresses`` (in order), saying ``host`` in the
    Host header and in TLS's SNI."""

    scheme: str
    host: str
    port: int
    target: str  # path and query, as the request line carries them
    addresses: tuple[str, ...]

    @property
    def netloc(self) -> str:
        return f"{self.host}:{self.port}"


def reason(address: Address) -> str | None:
    """Why ``address`` is not a public one (None: it is)."""
    subject = embedded_ipv4(address) or address
    checks = (
        (subject.is_unspecified, "an unspecified address"),
        (subject.is_loopback, "a loopback address"),
        (subject.is_link_local, "a link-local address"),
        (subject.is_multicast, "a multicast address"),
        (subject in _SHARED, "a shared (carrier-grade NAT) address"),
        (subject.is_private, "a private address"),
        (isinstance(subject, ipaddress.IPv6Address) and subject.is_site_local,
         "a site-local address"),
        (subject.is_reserved, "a reserved address"),
        (not subject.is_global, "not a public address"),
    )  # fmt: skip
    return next((why for failed, why in checks if failed), None)


def refusal(url: str, allow: AllowList) -> str | None:
    """Why a webhook may not have ``url`` (None: it may, as far as can be told now). A host
    that does not resolve now passes: every delivery checks again."""
    try:
        resolve(url, allow)
    except Refused as err:
        return str(err)
    except Unresolved:
        pass
    return None


def resolve(url: str, allow: AllowList) -> Destination:
    """The checked destination of ``url``: Refused if it may not be reached, Unresolved if
    its host does not resolve."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused(f"only http and https are sent to, not {scheme or 'no scheme'!r}")
    host = parts.hostname
    if not host:
        raise Refused("no host in the URL")
    port = parts.port or SCHEMES[scheme]
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    addresses = _addresses(host, port)
    if not allow.names(host):
        for address in addresses:
            why = None if allow.contains(address) else reason(address)
            if why is not None:
                said = f"{address} is" if str(address) == host else f"{host} resolves to {address},"
                raise Refused(
                    f"{said} {why}: webhooks may not reach the cloud's own network"
                    f" (an on-premise receiver must be listed in {ALLOW_VARIABLE})"
                )
    return Destination(scheme, host, port, target, tuple(str(a) for a in addresses))


def _addresses(host: str, port: int) -> list[Address]:
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as err:
        raise Unresolved(f"cannot resolve {host}: {err}") from err
    addresses: list[Address] = []
    for *_, sockaddr in found:
        # an IPv6 link-local answer carries a zone ("fe80::1%eth0"), which ip_address refuses
        address = ipaddress.ip_address(str(sockaddr[0]).split("%")[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise Unresolved(f"cannot resolve {host}: no address")
    return addresses
