"""Who is on the other end: the client address behind the reverse proxies we trust.

The server runs with uvicorn's own proxy handling off, so `request.client` is always
the direct peer. Only when that peer is one of `CIVIC_TRUSTED_PROXIES` is the
forwarding header read, right to left, skipping the hops that are trusted too: the
first address that is not is the client. Anything to its left was written by the
client and proves nothing. The answer is for throttling in memory; it is never stored
or logged.
"""

import ipaddress
import re
from collections.abc import Sequence

from starlette.requests import Request

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# `for=` in one element of a Forwarded header (RFC 7239): a token or a quoted string.
_FORWARDED_FOR = re.compile(r'(?:^|;)\s*for\s*=\s*("(?:[^"\\]|\\.)*"|[^;,\s]*)', re.IGNORECASE)


def parse_networks(value: str) -> tuple[IPNetwork, ...]:
    """`CIVIC_TRUSTED_PROXIES`: a comma list of addresses or CIDRs ("" for none)."""
    networks = []
    for entry in (part.strip() for part in value.split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ValueError(
                f"CIVIC_TRUSTED_PROXIES: {entry!r} is not an IP address or CIDR "
                "(for example 10.0.0.1, 10.0.0.0/8, fd00::/8)"
            ) from None
    return tuple(networks)


def parse_address(text: str) -> IPAddress | None:
    """An address as a forwarding header or a peer gives it: bare, `[v6]`, with or
    without a port; None for `unknown`, an obfuscated name or garbage."""
    text = text.strip().strip('"').strip()
    if text.startswith("["):
        text = text[1 : text.find("]")] if "]" in text else ""
    elif text.count(":") == 1:  # IPv4 with a port
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: IPAddress | None, networks: Sequence[IPNetwork]) -> bool:
    return address is not None and any(address in network for network in networks)


def _hops(request: Request, header: str) -> list[str]:
    """Every address the forwarding header names, left (farthest) to right (nearest)."""
    lines = request.headers.getlist(header)
    if header == "forwarded":
        hops = []
        for element in ",".join(lines).split(","):
            match = _FORWARDED_FOR.search(element.strip())
            # an element with no `for=` still stands for a hop we cannot name
            hops.append(match.group(1).replace('\\"', '"') if match else "")
        return hops
    return [hop for line in lines for hop in line.split(",")]


def client_address(request: Request, trusted: Sequence[IPNetwork], header: str) -> str | None:
    """The client's address, or the peer's when it is not a trusted proxy."""
    peer = request.client.host if request.client else None
    if peer is None or not trusted:
        return peer
    nearest = parse_address(peer)
    if not _trusted(nearest, trusted):
        return peer  # headers from anyone but a trusted proxy are ignored
    assert nearest is not None
    for hop in reversed(_hops(request, header)):
        address = parse_address(hop)
        if address is None:
            # "unknown" or garbage where the client should be: the nearest trusted hop
            # is all we know, so the throttle counts against it.
            return str(nearest)
        if not _trusted(address, trusted):
            return str(address)
        nearest = address
    # Every hop is trusted: the client is the farthest one (or the proxy itself).
    return str(nearest)


def bucket(address: str, *, v6_prefix: int = 64) -> str:
    """The key an address is throttled under: IPv6 by its /64, which one subscriber
    usually holds whole, so rotating through it does not reset the count."""
    parsed = parse_address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{parsed}/{v6_prefix}", strict=False))
    return str(parsed) if parsed is not None else address
