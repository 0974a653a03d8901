"""The outbound address policy, as plain function calls (no connections)."""

from __future__ import annotations

import pytest

from blog.net.addresses import Allowlist
from blog.net.client import is_forbidden_address

FORBIDDEN = [
    "127.0.0.1",
    "127.255.255.254",
    "0.0.0.0",
    "0.1.2.3",
    "10.0.0.1",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "169.254.0.1",
    "100.64.0.1",  # shared address space (carrier NAT)
    "100.127.255.254",
    "192.0.0.8",  # IETF protocol assignments, "global" for Python 3.11
    "192.0.2.1",
    "198.18.0.1",
    "198.51.100.7",
    "203.0.113.9",
    "224.0.0.1",  # multicast that ipaddress calls global
    "239.255.255.250",
    "240.0.0.1",
    "255.255.255.255",
    "::",
    "::1",
    "fe80::1",
    "fe80::1%1",
    "fc00::1",
    "fd12:3456::1",
    "fec0::1",
    "ff02::1",
    "ff0e::1",  # global-scope multicast
    "2001:db8::1",
    "3fff:123::1",  # documentation (RFC 9637)
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:7f00:1",
    "::ffff:10.1.2.3",
    "::ffff:169.254.169.254",
    "::127.0.0.1",  # IPv4-compatible
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    # Teredo of a public address (93.184.216.24): a tunnel, never a host of its own.
    "2001:0:4136:e378:8000:63bf:a247:27e7",
    "100::1",  # discard-only
    "not-an-address",
    "",
]
PUBLIC = [
    "8.8.8.8",
    "93.184.216.34",
    "1.1.1.1",
    "2606:4700::1111",
    "2a00:1450:4001::200e",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",  # NAT64 of a public address
    "2002:808:808::1",  # 6to4 of a public address
]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_policy_refuses_non_public_addresses(address):
    assert is_forbidden_address(address) is True


@pytest.mark.parametrize("address", PUBLIC)
def test_policy_accepts_public_unicast_addresses(address):
    assert is_forbidden_address(address) is False


def test_allowlist_takes_names_addresses_and_networks():
    allow = Allowlist.parse(" Blog.Example. , 127.0.0.2, 10.8.0.0/16, [::1] ,")
    assert allow.allows_host("blog.example")
    assert not allow.allows_host("other.example")
    assert allow.allows_address("127.0.0.2")
    assert not allow.allows_address("127.0.0.1")
    assert allow.allows_address("10.8.200.1")
    assert not allow.allows_address("10.9.0.1")
    assert allow.allows_address("::1")
    assert not Allowlist.parse("")
