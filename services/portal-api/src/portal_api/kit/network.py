"""Who is asking: the client's address as seen through the reverse proxies portal-api trusts.

X-Forwarded-For is a list anyone can start; each proxy appends the address it was reached from.
Read from the right, the first address that is not a trusted proxy is the client (whatever a
client wrote further left is ignored), and the header counts only when the connecting peer is
itself a trusted proxy.
"""

from __future__ import annotations

from collections.abc import Sequence
from ipaddress import IPv4Network, IPv6Network, ip_address

from fastapi import Request

UNKNOWN = "unknown"
MAX_LENGTH = 64  # the login attempts' and e-mails' address columns


def client_address(request: Request, trusted: Sequence[IPv4Network | IPv6Network]) -> str:
    peer = request.client.host if request.client else UNKNOWN
    forwarded = request.headers.get("x-forwarded-for", "")
    if not forwarded or not _is_trusted(peer, trusted):
        return peer[:MAX_LENGTH]
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            return hop[:MAX_LENGTH]
    return (hops[0] if hops else peer)[:MAX_LENGTH]


def _is_trusted(address: str, trusted: Sequence[IPv4Network | IPv6Network]) -> bool:
    try:
        parsed = ip_address(address)
    except ValueError:
        return False
    return any(parsed in network for network in trusted)
