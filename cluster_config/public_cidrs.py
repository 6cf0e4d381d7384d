"""Which CIDRs may open the public API endpoint, and when a set of them opens it to everyone.

EKS User Guide, "Configure network access to cluster API server endpoint" (read 2026-12): a
public access CIDR block "cannot include reserved addresses", and "there is a maximum number of
CIDR blocks" (EKS service quotas). Used by the config rules (``cluster_config.rules``), synth's
warning (``stacks.cluster_stack``) and verify's posture check (``verify.eks_posture``) alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from ipaddress import IPv4Network, collapse_addresses

MAX_PUBLIC_ACCESS_CIDRS = 40
"""EKS service quota "Public endpoint access CIDR ranges per cluster": 40, not adjustable (EKS
User Guide, "View and manage Amazon EKS and Fargate service quotas"; figure as read in 2026-12,
not re-checked offline)."""

# IANA IPv4 Special-Purpose Address Registry (RFC 6890 and updates): ranges no internet client
# connects from. Documentation ranges (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are left
# out: this project's examples use them, and whether EKS refuses them is unknown.
_NOT_PUBLIC = {
    IPv4Network("0.0.0.0/8"): "is 'this network' (RFC 791), not an internet source",
    IPv4Network("10.0.0.0/8"): "is a private range (RFC 1918)",
    IPv4Network("100.64.0.0/10"): "is carrier-grade NAT shared space (RFC 6598)",
    IPv4Network("127.0.0.0/8"): "is loopback (RFC 1122)",
    IPv4Network("169.254.0.0/16"): "is link-local (RFC 3927)",
    IPv4Network("172.16.0.0/12"): "is a private range (RFC 1918)",
    IPv4Network("192.0.0.0/24"): "is IETF protocol assignments (RFC 6890)",
    IPv4Network("192.168.0.0/16"): "is a private range (RFC 1918)",
    IPv4Network("198.18.0.0/15"): "is benchmarking space (RFC 2544)",
    IPv4Network("224.0.0.0/4"): "is multicast (RFC 5771)",
    IPv4Network("240.0.0.0/4"): "is reserved (RFC 1112) or broadcast",
}

OPEN_TO_INTERNET_SHARE = 1 / 16
"""A set of CIDRs whose union covers at least this share of the IPv4 space (a /4, 268 million
addresses) is treated as open to the whole internet. No organisation holds that much: the
largest holders have a few /8s (1/256 each), so a union this large cannot be "our offices"; it
is the internet split into pieces (``0.0.0.0/1`` + ``128.0.0.0/1`` is all of it)."""
OPEN_TO_INTERNET_RULE = (
    "CIDRs that together cover 1/16 of the IPv4 space or more (a /4, more addresses than any "
    "organisation holds) count as the whole internet"
)
"""The threshold in the user's words, for every message that applies it."""


def not_public_reason(cidr: IPv4Network) -> str | None:
    """Why no internet client could come from ``cidr`` (it lies in a special range), or None."""
    for special, reason in _NOT_PUBLIC.items():
        if cidr.subnet_of(special):
            return reason
    return None


def internet_share(cidrs: Iterable[IPv4Network]) -> float:
    """The share of the IPv4 address space the union of ``cidrs`` covers (overlaps once)."""
    return sum(n.num_addresses for n in collapse_addresses(cidrs)) / 2**32


def opens_to_internet(cidrs: Iterable[IPv4Network | str]) -> bool:
    """Whether ``cidrs`` together let (nearly) the whole internet in; see OPEN_TO_INTERNET_SHARE."""
    networks = [IPv4Network(c) if isinstance(c, str) else c for c in cidrs]
    return internet_share(networks) >= OPEN_TO_INTERNET_SHARE
