"""Rules about client addresses and web origins, with no I/O.

* :func:`limit_key`: the key a rate limit counts a client address under. An IPv6
  client usually holds a whole /64 (SLAAC, privacy addresses), so counting single
  IPv6 addresses would hand one attacker 2**64 fresh keys; the /64 is counted instead.
* :func:`is_loopback`: whether an address is this machine (``/metrics`` without a token).
* :func:`same_origin`: whether a browser's ``Origin`` is the server's own origin.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import urlsplit

__all__ = ["is_loopback", "limit_key", "parse_origin", "same_origin", "valid_host"]

IPV6_LIMIT_PREFIX = 64
_DEFAULT_PORTS = {"http": 80, "https": 443, "ws": 80, "wss": 443}
# A Host header: a name or IPv4 address, or a bracketed IPv6 address, and an optional port.
_HOST = re.compile(r"^(?:[A-Za-z0-9.\-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$")


def _ip(address: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(address.strip().removeprefix("[").removesuffix("]"))
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    return ip


def limit_key(address: str) -> str:
    """The rate-limit key of a client address: IPv4 as is, IPv6 as its /64 network.

    IPv4-mapped IPv6 addresses (``::ffff:192.0.2.1``, from dual-stack sockets) count as
    their IPv4 address. Anything that is not an IP address (a Unix socket's peer, a test
    client's name) is its own key.
    """
    ip = _ip(address)
    if ip is None:
        return address
    if isinstance(ip, ipaddress.IPv4Address):
        return str(ip)
    network = ipaddress.IPv6Network((ip, IPV6_LIMIT_PREFIX), strict=False)
    return str(network)


def is_loopback(address: str | None) -> bool:
    """True only for a loopback IP address (127.0.0.0/8, ::1, ::ffff:127.x.y.z)."""
    if not address:
        return False
    ip = _ip(address)
    return ip is not None and ip.is_loopback


def parse_origin(value: str) -> tuple[str, str, int] | None:
    """``(scheme, host, port)`` of a web origin or URL, lower-cased, default ports filled in;
    None when it is not an http(s)/ws(s) origin."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        return None
    return scheme, parts.hostname.lower(), port or _DEFAULT_PORTS[scheme]


def valid_host(host: str) -> bool:
    """A syntactically plain Host header value (nothing to inject into a header we build)."""
    return bool(_HOST.match(host))


def same_origin(origin: str, scheme: str, host: str) -> bool:
    """Whether ``origin`` (a browser's ``Origin`` header) is the server's own origin.

    ``scheme`` is the request's scheme as the server sees it (``https`` behind a trusted
    TLS proxy, ``ws``/``wss`` for WebSocket requests) and ``host`` its ``Host`` header.
    Scheme, host and port must all match, default ports included.
    """
    if not valid_host(host):
        return False
    page = parse_origin(origin)
    own_scheme = {"ws": "http", "wss": "https"}.get(scheme, scheme)
    own = parse_origin(f"{own_scheme}://{host}")
    return page is not None and own is not None and page == own
