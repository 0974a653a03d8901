"""Which network addresses the blog may connect to: the outbound address policy.

The standard library's ``ipaddress`` is not enough on its own: in Python 3.11 it
calls 224.0.0.1 and 192.0.0.8 global, and an IPv4 address wrapped in an IPv6 form
(``::ffff:127.0.0.1``, NAT64 ``64:ff9b::7f00:1``, 6to4 ``2002:7f00:1::``) is
judged on the wrapper. Here the wrapped IPv4 address decides as well.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass, field

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Special-purpose ranges (IANA registries) refused even where ``ipaddress``
# calls some of them global.
_SPECIAL_NETWORKS = tuple(
    ipaddress.ip_network(net)
    for net in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
        "::/128",
        "100::/64",
        "64:ff9b:1::/48",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",  # documentation, RFC 9637
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """IPv4 addresses carried inside an IPv6 one (mapped, compatible, NAT64, ...)."""
    found = []
    if ip.ipv4_mapped is not None:
        found.append(ip.ipv4_mapped)
    if ip in _NAT64 or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    return found


def is_forbidden_address(ip: str | IPAddress) -> bool:
    """True for any address that is not plainly a public unicast host."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return True  # not an address at all: never connect to it
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return True
        inner = embedded_ipv4(address)
        if any(is_forbidden_address(v4) for v4 in inner):
            return True
        if address.ipv4_mapped is not None or (address in _NAT64 and inner):
            # A public IPv4 address, mapped or behind the well-known NAT64
            # prefix: the IPv4 address decides.
            return False
    if any(address in net for net in _SPECIAL_NETWORKS):
        return True
    return (
        not address.is_global
        or address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
    )


@dataclass(frozen=True)
class Allowlist:
    """Host names and networks the operator opened despite the policy."""

    hosts: frozenset[str] = frozenset()
    networks: tuple[IPNetwork, ...] = field(default=())

    @classmethod
    def parse(cls, value: str | Iterable[str] | None) -> Allowlist:
        """Build from ``"host, 127.0.0.2, 10.0.0.0/8"`` or a list of such entries."""
        if value is None:
            return cls()
        items = value.split(",") if isinstance(value, str) else list(value)
        hosts, networks = set(), []
        for raw in items:
            entry = str(raw).strip().strip("[]").lower()
            if not entry:
                continue
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                hosts.add(entry.rstrip("."))
        return cls(frozenset(hosts), tuple(networks))

    def allows_host(self, host: str) -> bool:
        """Whether the host name itself was listed."""
        return host.lower().rstrip(".") in self.hosts

    def allows_address(self, ip: str | IPAddress) -> bool:
        """Whether the address falls in a listed address or network."""
        try:
            address = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return any(
            address.version == net.version and address in net for net in self.networks
        )

    def __bool__(self) -> bool:
        return bool(self.hosts or self.networks)
