"""Push endpoints are URLs a client chose: checked before every connection (SSRF).

A subscription's endpoint is where the server will send an HTTP request, so a member
(or a stolen session) could point it at the server's own network: the loopback
interface, the LAN, a cloud metadata service. Before each send the host is resolved
and *every* address it resolves to must be a public unicast address; the request
then goes to one of the checked addresses (the host name only travels in the TLS SNI
and ``Host`` header), so a DNS answer that changes between check and connect
(rebinding) cannot steer it elsewhere. Redirects are never followed.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from inner_circle.core.errors import ValidationFailed

__all__ = [
    "MAX_ENDPOINT_LENGTH",
    "CheckedEndpoint",
    "EndpointRefused",
    "Resolver",
    "address_refusal",
    "check_endpoint",
    "parse_endpoint",
    "system_resolver",
]

MAX_ENDPOINT_LENGTH = 2048
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[Sequence[str]]]


class EndpointRefused(ValidationFailed):
    """The endpoint is not a URL the server will send to."""


@dataclass(frozen=True, slots=True)
class CheckedEndpoint:
    url: str
    scheme: str
    host: str
    port: int
    path: str  # path and query, as sent
    addresses: tuple[str, ...]


# Named ranges, checked in order; the first that holds names the refusal.
_V4_BLOCKS: tuple[tuple[str, str], ...] = (
    ("169.254.169.254/32", "metadata"),  # AWS, GCP, Azure, OpenStack
    ("100.100.100.200/32", "metadata"),  # Alibaba Cloud
    ("0.0.0.0/8", "unspecified"),
    ("127.0.0.0/8", "loopback"),
    ("10.0.0.0/8", "private"),
    ("172.16.0.0/12", "private"),
    ("192.168.0.0/16", "private"),
    ("100.64.0.0/10", "shared"),  # carrier-grade NAT
    ("169.254.0.0/16", "link-local"),
    ("192.0.0.0/24", "reserved"),
    ("192.0.2.0/24", "documentation"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("198.18.0.0/15", "benchmarking"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # includes 255.255.255.255
)
_V6_BLOCKS: tuple[tuple[str, str], ...] = (
    ("fd00:ec2::254/128", "metadata"),  # AWS over IPv6
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fc00::/7", "unique-local"),
    ("fe80::/10", "link-local"),
    ("fec0::/10", "site-local"),
    ("ff00::/8", "multicast"),
    ("2001:db8::/32", "documentation"),
    ("100::/64", "discard"),
    ("2001::/23", "reserved"),  # IETF protocol assignments (Teredo, ORCHID, ...)
)
_V4 = [(ipaddress.IPv4Network(net), name) for net, name in _V4_BLOCKS]
_V6 = [(ipaddress.IPv6Network(net), name) for net, name in _V6_BLOCKS]
# IPv6 forms that carry an IPv4 address inside: the embedded one is what is reached.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.IPv6Network("2002::/16")


def address_refusal(address: str | IPAddress) -> str | None:
    """Why the server must not connect to ``address`` (a class name), or None if public."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: ipaddress.IPv4Address | None = ip.ipv4_mapped
        if embedded is None and ip in _NAT64:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is None and ip in _SIX_TO_FOUR:
            embedded = ip.sixtofour
        if embedded is None and int(ip) >> 32 == 0 and int(ip) > 1:
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)  # IPv4-compatible ::a.b.c.d
        if embedded is not None:
            return address_refusal(embedded)
        for net6, name in _V6:
            if ip in net6:
                return name
    else:
        for net4, name in _V4:
            if ip in net4:
                return name
    if not ip.is_global:
        return "reserved"
    return None


def parse_endpoint(url: str, *, allow_loopback: bool = False) -> tuple[str, str, int, str]:
    """Check the URL's form (no network): (scheme, host, port, path). Raises EndpointRefused."""
    if len(url) > MAX_ENDPOINT_LENGTH:
        raise EndpointRefused(f"endpoint: at most {MAX_ENDPOINT_LENGTH} characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise EndpointRefused("endpoint: not a valid URL") from exc
    scheme = parts.scheme.lower()
    if scheme != "https" and not (allow_loopback and scheme == "http"):
        raise EndpointRefused("endpoint: must be an https URL")
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise EndpointRefused("endpoint: the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise EndpointRefused("endpoint: credentials in the URL are not accepted")
    if parts.fragment:
        raise EndpointRefused("endpoint: a fragment is not accepted")
    path = parts.path or "/"
    if parts.query:
        path = f"{path}?{parts.query}"
    return scheme, host, port or (443 if scheme == "https" else 80), path


async def system_resolver(host: str, port: int) -> Sequence[str]:
    """Every address the system resolver gives for ``host``."""
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
    )
    return [str(info[4][0]) for info in infos]


async def check_endpoint(
    url: str, *, resolver: Resolver = system_resolver, allow_loopback: bool = False
) -> CheckedEndpoint:
    """Resolve the endpoint's host and check every address; raises EndpointRefused.

    ``allow_loopback`` (tests only; refused in production by the settings) lets plain
    http and loopback addresses through, and nothing else.
    """
    scheme, host, port, path = parse_endpoint(url, allow_loopback=allow_loopback)
    try:
        literal: IPAddress | None = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses: Sequence[str] = [str(literal)]
    else:
        try:
            addresses = await resolver(host, port)
        except (OSError, UnicodeError) as exc:
            raise EndpointRefused("endpoint: the host does not resolve") from exc
    if not addresses:
        raise EndpointRefused("endpoint: the host does not resolve")
    for address in addresses:
        reason = address_refusal(address)
        if reason is None:
            continue
        if allow_loopback and reason == "loopback":
            continue
        raise EndpointRefused(f"endpoint: resolves to a {reason} address, which is refused")
    return CheckedEndpoint(url, scheme, host, port, path, tuple(dict.fromkeys(addresses)))
