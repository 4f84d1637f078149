"""The receivers a webhook may reach although they are not public: ``VOLTRENT_WEBHOOK_ALLOW``,
host names and networks, as the configuration reads it.

A kernel module beside ``config``: the configuration parses the variable into an
``AllowList`` when it starts, and notify's ``destinations`` judges every webhook address
against it.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

ALLOW_VARIABLE = "VOLTRENT_WEBHOOK_ALLOW"
# IPv6 prefixes that carry an IPv4 address in their last 32 bits (NAT64's well-known one);
# IPv4-mapped and 6to4 have their own properties in ipaddress.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class AllowList:
    """On-premise receivers a webhook may reach although they are not public: host names
    (exact, any case) and networks."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[Network, ...] = ()

    @classmethod
    def parse(cls, text: str) -> AllowList:
        """``hooks.corp.example, 10.20.0.0/16, 192.168.1.7``; ValueError names a bad entry."""
        hosts, networks = set(), []
        for entry in (part.strip() for part in text.split(",")):
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
                continue
            except ValueError:
                pass
            if "/" in entry or ":" in entry or any(c.isspace() for c in entry):
                raise ValueError(f"{entry!r} is neither a host name nor an address or network")
            hosts.add(_host_key(entry))
        return cls(frozenset(hosts), tuple(networks))

    def __str__(self) -> str:
        return ", ".join([*sorted(self.hosts), *(str(n) for n in self.networks)])

    def names(self, host: str) -> bool:
        return _host_key(host) in self.hosts

    def contains(self, address: Address) -> bool:
        candidates = {address, embedded_ipv4(address) or address}
        return any(a in network for a in candidates for network in self.networks)


def embedded_ipv4(address: Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 one stands for (mapped, 6to4, NAT64), else None."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def _host_key(host: str) -> str:
    return host.strip().rstrip(".").lower()
