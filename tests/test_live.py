"""``verify --live``: what it asks the account and how the checks judge the answers.

Never the network: moto's ``mock_aws`` answers EC2 zone maps and offerings, botocore's
``Stubber`` answers the calls moto does not model (spot placement scores, Service Quotas for EC2,
the Price List API) with the shapes botocore validates against the service models. A test that
needs "no credentials" empties the standard chain (no environment, no files, no instance role).
"""

from __future__ import annotations

import copy
import datetime
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from cluster_config.node_groups import NodeGroupSpecs, node_group_specs
from cluster_config.zone_offerings import RegionOfferings
from stacks.network_stack import ZONE_ID_METADATA
from tests.support import config_with, resources
from verify.live import (
    CONNECT_TIMEOUT_S,
    MAX_ATTEMPTS,
    READ_TIMEOUT_S,
    LiveFacts,
    NoCredentials,
    ask_account,
    check_live,
    client_config,
    gather,
    session_clients,
)
from verify.quotas import check_quotas
from verify.synth import Synthesis
from verify.zones import LiveOfferings, check_zones

TODAY = datetime.date(2026, 12, 2)
ONE_TYPE_EACH = {
    "system_node_group": {"instance_types": ["m6i.xlarge"]},
    "gpu_pools": [{"name": "gpu", "instance_types": ["g6.xlarge"], "min_size": 0, "max_size": 4}],
}
"""The default cluster with one type per group: each Price List call is one stubbed answer."""


@pytest.fixture
def no_credentials(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in (
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")  # no instance-role lookup


@pytest.fixture
def fake_credentials(monkeypatch: pytest.MonkeyPatch, no_credentials: None) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")


def specs(overrides: dict[str, Any]) -> NodeGroupSpecs:
    return node_group_specs(config_with(overrides))


# --- no credentials, no endpoint: one line, never a crash or a hang ---------------------------


def test_without_credentials_live_is_one_skip_line(no_credentials: None) -> None:
    clients = session_clients(boto3.session.Session())
    assert isinstance(clients, NoCredentials)
    result = check_live(clients)
    assert result.status == "SKIP"
    assert result.summary.startswith("--live: no AWS credentials found by boto3's standard chain")
    assert result.details == []


def test_verify_live_without_credentials_reports_skip_instead_of_asking(
    no_credentials: None,
) -> None:
    assert check_live(ask_account("us-west-2", specs({}))).summary.startswith(
        "--live: no AWS credentials found"
    )


@pytest.mark.parametrize("profile", ["typo", ""])
def test_a_profile_that_does_not_exist_is_one_skip_line(
    no_credentials: None, monkeypatch: pytest.MonkeyPatch, profile: str
) -> None:
    """Bug caught: AWS_PROFILE naming no profile (a typo, or set empty) raised ProfileNotFound
    from boto3's Session() itself, outside the guard, and verify --live ended in exit 3."""
    monkeypatch.setenv("AWS_PROFILE", profile)
    result = check_live(ask_account("us-west-2", specs({})))
    assert result.status == "SKIP"
    assert result.summary.startswith("--live: ProfileNotFound: ")


def test_clients_have_bounded_timeouts_and_few_retries() -> None:
    """Bug caught: botocore's defaults (60 s connect and read, up to 5 attempts per call) make a
    blocked network look like a hung verify."""
    config = client_config()
    assert (config.connect_timeout, config.read_timeout) == (CONNECT_TIMEOUT_S, READ_TIMEOUT_S)
    assert config.retries == {"max_attempts": MAX_ATTEMPTS, "mode": "standard"}
    assert CONNECT_TIMEOUT_S * MAX_ATTEMPTS <= 10


def test_an_unreachable_endpoint_is_a_note_per_call_not_a_crash(fake_credentials: None) -> None:
    session = boto3.session.Session()

    def refused(service: str, region: str) -> Any:  # port 9 on loopback: connection refused
        return session.client(
            service, region_name=region, endpoint_url="http://127.0.0.1:9", config=client_config()
        )

    facts = gather("us-west-2", specs(ONE_TYPE_EACH), refused, today=TODAY)
    assert facts.zones is None
    assert facts.quotas == {"L-34B43A08": None, "L-3819A6DF": None}
    assert any(p.startswith("ec2:DescribeAvailabilityZones: ") for p in facts.problems)
    result = check_live(facts)
    assert result.status == "WARN"
    assert "call(s) failed (their checks stay offline)" in result.summary


# --- moto: the account's zone map and offerings ----------------------------------------------


@pytest.fixture
def moto_account(fake_credentials: None) -> Iterator[None]:
    with mock_aws():
        yield


def moto_clients(service: str, region: str) -> Any:
    return boto3.client(service, region_name=region, config=client_config())


def test_live_zone_map_and_offerings_come_from_the_account(moto_account: None) -> None:
    facts = gather("us-west-2", specs(ONE_TYPE_EACH), moto_clients, today=TODAY)
    assert facts.zones is not None
    zone_map = moto_clients("ec2", "us-west-2").describe_availability_zones()
    assert dict(facts.zones.zone_ids) == {
        z["ZoneName"]: z["ZoneId"] for z in zone_map["AvailabilityZones"]
    }
    assert facts.zones.offers.zones_offering("g6.xlarge") == {
        "usw2-az1",
        "usw2-az2",
        "usw2-az3",
        "usw2-az4",
    }
    assert (
        facts.zones.label == "live: your account's DescribeInstanceTypeOfferings, asked 2026-12-02"
    )


def g5_only(synth: Synthesis) -> dict[str, Any]:
    """The default cluster template with the GPU pool's groups on g5.xlarge only."""
    cluster = copy.deepcopy(synth.cluster)
    for group in resources(cluster, "AWS::EKS::Nodegroup").values():
        if group["Properties"]["Labels"].get("pool") == "gpu-spot-ng":
            group["Properties"]["InstanceTypes"] = ["g5.xlarge"]
    return cluster


def test_live_offerings_fail_a_group_whose_zone_offers_none_of_its_types(
    moto_account: None, default_synth: Synthesis
) -> None:
    """Certain (the account's own answer): a FAIL, unlike the snapshot's WARN. moto's us-west-2
    offers no g5.xlarge in usw2-az4; this account maps us-west-2a to it."""
    facts = gather("us-west-2", specs({}), moto_clients, today=TODAY)
    assert facts.zones is not None
    assert "usw2-az4" not in facts.zones.offers.zones_offering("g5.xlarge")
    account = LiveOfferings(
        {"us-west-2a": "usw2-az4", "us-west-2b": "usw2-az1", "us-west-2c": "usw2-az2"},
        facts.zones.offers,
        facts.asked_on,
    )
    result = check_zones(g5_only(default_synth), default_synth.network, "us-west-2", live=account)
    assert result.status == "FAIL", result.details
    [failure] = [d for d in result.details if "offers none" in d]
    assert failure.startswith("gpu-spot-ng-a-")
    assert failure.endswith(
        "in us-west-2a = usw2-az4: the zone offers none of g5.xlarge; the group would never get "
        "a node"
    )
    assert result.summary.startswith("your account's zone IDs (us-west-2, exact; live: ")


def test_availability_zone_ids_that_disagree_with_the_account_fail(
    default_synth: Synthesis,
) -> None:
    network = copy.deepcopy(default_synth.network)
    for subnet in resources(network, "AWS::EC2::Subnet").values():
        zone = subnet["Properties"]["AvailabilityZone"]
        subnet.setdefault("Metadata", {})[ZONE_ID_METADATA] = f"usw2-az{ord(zone[-1]) - 96}"
    offers = RegionOfferings(
        "us-west-2",
        ("usw2-az1", "usw2-az2", "usw2-az3"),
        {"g5.xlarge": frozenset(), "g6.xlarge": frozenset({"usw2-az1", "usw2-az2", "usw2-az3"})},
    )
    account = LiveOfferings(
        {"us-west-2a": "usw2-az1", "us-west-2b": "usw2-az3", "us-west-2c": "usw2-az2"},
        offers,
        "2026-12-02",
    )
    result = check_zones(default_synth.cluster, network, "us-west-2", live=account)
    assert result.status == "FAIL"
    assert (
        "availability_zone_ids gives us-west-2b = usw2-az2; your account maps us-west-2b to "
        "usw2-az3: correct availability_zone_ids"
    ) in result.details


# --- Stubber: placement scores, quotas, spot and on-demand prices -----------------------------


def product(usd: str) -> str:
    return json.dumps(
        {
            "terms": {
                "OnDemand": {
                    "T1": {"priceDimensions": {"D1": {"unit": "Hrs", "pricePerUnit": {"USD": usd}}}}
                }
            }
        }
    )


@pytest.fixture
def stubbed(fake_credentials: None) -> Iterator[tuple[dict[str, Any], dict[str, Stubber]]]:
    clients = {
        "ec2": boto3.client("ec2", region_name="eu-west-1"),
        "service-quotas": boto3.client("service-quotas", region_name="eu-west-1"),
        "pricing": boto3.client("pricing", region_name="us-east-1"),
    }
    stubbers = {name: Stubber(client) for name, client in clients.items()}
    for stubber in stubbers.values():
        stubber.activate()
    yield clients, stubbers
    for stubber in stubbers.values():
        stubber.deactivate()


def test_live_answers_feed_quotas_scores_and_prices(
    stubbed: tuple[dict[str, Any], dict[str, Stubber]],
) -> None:
    clients, stubbers = stubbed
    ec2, quotas, pricing = stubbers["ec2"], stubbers["service-quotas"], stubbers["pricing"]
    names = {f"eu-west-1{x}": f"euw1-az{n}" for n, x in ((1, "a"), (2, "b"), (3, "c"))}
    ec2.add_response(
        "describe_availability_zones",
        {"AvailabilityZones": [{"ZoneName": k, "ZoneId": v} for k, v in names.items()]},
    )
    ec2.add_response(
        "describe_instance_type_offerings",
        {
            "InstanceTypeOfferings": [
                {"InstanceType": t, "LocationType": "availability-zone-id", "Location": z}
                for t in ("g6.xlarge", "m6i.xlarge")
                for z in names.values()
            ]
        },
    )
    ec2.add_response(  # pools in config order of the spot groups: system first
        "get_spot_placement_scores",
        {"SpotPlacementScores": [{"AvailabilityZoneId": z, "Score": 9} for z in names.values()]},
        {
            "InstanceTypes": ["m6i.xlarge"],
            "TargetCapacity": 20,
            "TargetCapacityUnitType": "units",
            "SingleAvailabilityZone": True,
            "RegionNames": ["eu-west-1"],
        },
    )
    ec2.add_response(
        "get_spot_placement_scores",
        {
            "SpotPlacementScores": [
                {"AvailabilityZoneId": "euw1-az1", "Score": 2},
                {"AvailabilityZoneId": "euw1-az2", "Score": 8},
            ]
        },
        {
            "InstanceTypes": ["g6.xlarge"],
            "TargetCapacity": 4,
            "TargetCapacityUnitType": "units",
            "SingleAvailabilityZone": True,
            "RegionNames": ["eu-west-1"],
        },
    )
    stamp = datetime.datetime(2026, 12, 2, tzinfo=datetime.UTC)
    ec2.add_response(
        "describe_spot_price_history",
        {
            "SpotPriceHistory": [
                {
                    "InstanceType": "g6.xlarge",
                    "AvailabilityZone": "eu-west-1a",
                    "SpotPrice": "0.40",
                    "Timestamp": stamp,
                },
                {
                    "InstanceType": "g6.xlarge",
                    "AvailabilityZone": "eu-west-1a",
                    "SpotPrice": "0.30",
                    "Timestamp": stamp - datetime.timedelta(hours=1),
                },
                {
                    "InstanceType": "m6i.xlarge",
                    "AvailabilityZone": "eu-west-1b",
                    "SpotPrice": "0.07",
                    "Timestamp": stamp,
                },
            ]
        },
    )
    for code, value in (("L-34B43A08", 640.0), ("L-3819A6DF", 8.0)):
        quotas.add_response(
            "get_service_quota",
            {"Quota": {"QuotaCode": code, "QuotaName": f"name of {code}", "Value": value}},
            {"ServiceCode": "ec2", "QuotaCode": code},
        )
    pricing.add_response("get_products", {"PriceList": [product("0.9780")]})
    facts = gather(
        "eu-west-1",
        specs({**ONE_TYPE_EACH, "region": "eu-west-1", "availability_zones": list(names)}),
        lambda service, region: clients[service],
        priced=["m6i.xlarge"],
        today=TODAY,
    )
    for stubber in stubbers.values():
        stubber.assert_no_pending_responses()
    assert facts.problems == []
    assert facts.placement_scores == {
        "system": {"euw1-az1": 9, "euw1-az2": 9, "euw1-az3": 9},
        "gpu": {"euw1-az1": 2, "euw1-az2": 8},
    }
    assert facts.spot_prices == {
        "g6.xlarge": {"eu-west-1a": 0.40},
        "m6i.xlarge": {"eu-west-1b": 0.07},
    }
    assert facts.on_demand_prices == {"g6.xlarge": 0.978}
    quota_line = check_quotas("eu-west-1", specs(ONE_TYPE_EACH), facts.quotas, facts.asked_on)
    assert quota_line.details[0] == (
        "G and VT spot quota 8 vCPUs; this config can ask for 48 at max scale: request L-3819A6DF"
    )
    live_line = check_live(facts)
    assert live_line.status == "WARN"
    assert live_line.summary.endswith("spot unlikely for gpu in euw1-az1 (2)")
    assert "L-3819A6DF is 'name of L-3819A6DF' in your account" in live_line.details


def test_live_facts_without_answers_change_nothing() -> None:
    facts = LiveFacts("us-west-2", "2026-12-02")
    assert check_live(facts).status == "PASS"
    assert check_live(None).status == "SKIP"
