"""EKS's rules for public access CIDRs and when a set of CIDRs opens the endpoint to everyone."""

from __future__ import annotations

from ipaddress import IPv4Network

import pytest

from cluster_config.public_cidrs import (
    MAX_PUBLIC_ACCESS_CIDRS,
    OPEN_TO_INTERNET_SHARE,
    internet_share,
    opens_to_internet,
)
from tests.support import config_with
from tests.test_config import codes_of


@pytest.mark.parametrize(
    "cidrs",
    [
        ["0.0.0.0/0"],
        ["0.0.0.0/1", "128.0.0.0/1"],
        ["0.0.0.0/2", "64.0.0.0/2", "128.0.0.0/2", "192.0.0.0/2"],
        ["16.0.0.0/4"],  # exactly 1/16
        ["32.0.0.0/5", "64.0.0.0/5"],  # 2/32 of IPv4 in two pieces
    ],
)
def test_sets_covering_a_sixteenth_of_ipv4_or_more_open_to_the_internet(cidrs: list[str]) -> None:
    assert opens_to_internet(cidrs)


@pytest.mark.parametrize(
    "cidrs",
    [["203.0.113.0/24"], ["17.0.0.0/8", "18.0.0.0/8"], ["32.0.0.0/5"], []],
)
def test_an_organisations_ranges_do_not(cidrs: list[str]) -> None:
    assert not opens_to_internet(cidrs)


def test_overlapping_cidrs_count_once() -> None:
    assert internet_share([IPv4Network("0.0.0.0/1"), IPv4Network("0.0.0.0/2")]) == 0.5
    assert OPEN_TO_INTERNET_SHARE == 1 / 16


@pytest.mark.parametrize(
    "cidr", ["10.1.0.0/16", "192.168.1.0/24", "127.0.0.1/32", "100.64.0.0/10", "169.254.0.0/16"]
)
def test_private_reserved_and_loopback_ranges_are_refused(cidr: str) -> None:
    assert codes_of({"endpoint": {"public_access_cidrs": ["198.51.100.0/24", cidr]}}) == [
        ("PublicCidrNotPublic", "endpoint.public_access_cidrs.1")
    ]


def test_more_cidrs_than_eks_allows_are_refused() -> None:
    cidrs = [f"198.51.{i}.0/24" for i in range(MAX_PUBLIC_ACCESS_CIDRS + 1)]
    assert codes_of({"endpoint": {"public_access_cidrs": cidrs}}) == [
        ("TooManyPublicCidrs", "endpoint.public_access_cidrs")
    ]
    assert config_with({"endpoint": {"public_access_cidrs": cidrs[:-1]}})


def test_the_whole_internet_in_pieces_needs_no_private_endpoint() -> None:
    """The kubectl provider (Lambda, no fixed address) reaches the API when every address may."""
    endpoint = {"public_access_cidrs": ["0.0.0.0/1", "128.0.0.0/1"], "private_access": False}
    assert config_with({"endpoint": endpoint}).endpoint.private_access is False
