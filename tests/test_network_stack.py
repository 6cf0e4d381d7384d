"""The VPC: named AZs (no lookups), public/private subnets tagged for load balancers."""

from __future__ import annotations

import json
from pathlib import Path

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Match, Template

from stacks import build_stacks, new_app
from stacks.network_stack import NetworkStack
from tests.support import config_with, resources, synthesize
from verify.synth import Synthesis


@pytest.fixture(scope="module")
def template(default_synth: Synthesis) -> Template:
    return Template.from_json(default_synth.network)


def test_vpc_uses_the_configured_cidr(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16"})


def test_one_public_and_one_private_subnet_per_configured_zone(default_synth: Synthesis) -> None:
    subnets = resources(default_synth.network, "AWS::EC2::Subnet").values()
    zones = sorted(s["Properties"]["AvailabilityZone"] for s in subnets)
    assert zones == ["us-west-2a"] * 2 + ["us-west-2b"] * 2 + ["us-west-2c"] * 2


def test_subnets_are_tagged_for_load_balancers(template: Template) -> None:
    template.resource_properties_count_is(
        "AWS::EC2::Subnet",
        {"Tags": Match.array_with([{"Key": "kubernetes.io/role/elb", "Value": "1"}])},
        3,
    )
    template.resource_properties_count_is(
        "AWS::EC2::Subnet",
        {"Tags": Match.array_with([{"Key": "kubernetes.io/role/internal-elb", "Value": "1"}])},
        3,
    )


def test_one_nat_gateway_by_default(template: Template) -> None:
    template.resource_count_is("AWS::EC2::NatGateway", 1)


def test_all_traffic_is_flow_logged(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "ALL"})


@pytest.mark.slow
def test_nat_gateway_count_and_tags_follow_the_config(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    config = config_with({"nat_gateways": 3, "tags": {"team": "ml", "cost-center": "42"}})
    synth = synthesize(config, tmp_path_factory.mktemp("nat"))
    network = Template.from_json(synth.network)
    network.resource_count_is("AWS::EC2::NatGateway", 3)
    network.has_resource_properties(
        "AWS::EC2::VPC", {"Tags": Match.array_with([{"Key": "team", "Value": "ml"}])}
    )
    Template.from_json(synth.cluster).has_resource_properties(
        "AWS::EKS::Cluster", {"Tags": Match.array_with([{"Key": "cost-center", "Value": "42"}])}
    )


@pytest.mark.slow
def test_a_second_cluster_in_one_app_does_not_get_the_first_ones_tags() -> None:
    """Tags go on each cluster's own stacks, not on the whole App."""
    app = new_app(context={"policy_checks": "false"})
    build_stacks(app, config_with({"cluster_name": "first", "tags": {"owner-first": "1"}}))
    second = build_stacks(
        app, config_with({"cluster_name": "second", "tags": {"owner-second": "1"}})
    )
    vpc_tags = {
        t["Key"]
        for r in resources(Template.from_stack(second.network).to_json(), "AWS::EC2::VPC").values()
        for t in r["Properties"]["Tags"]
    }
    assert "owner-second" in vpc_tags
    assert "owner-first" not in vpc_tags


def test_subnet_cidrs_are_fixed_slots_chosen_by_zone_letter(default_synth: Synthesis) -> None:
    subnets = resources(default_synth.network, "AWS::EC2::Subnet").values()
    layout = sorted(
        (s["Properties"]["AvailabilityZone"], s["Properties"]["CidrBlock"]) for s in subnets
    )
    assert layout == [
        ("us-west-2a", "10.0.0.0/19"),
        ("us-west-2a", "10.0.192.0/21"),
        ("us-west-2b", "10.0.200.0/21"),
        ("us-west-2b", "10.0.32.0/19"),
        ("us-west-2c", "10.0.208.0/21"),
        ("us-west-2c", "10.0.64.0/19"),
    ]


@pytest.mark.slow
def test_adding_a_zone_keeps_every_existing_subnet(
    default_synth: Synthesis, tmp_path_factory: pytest.TempPathFactory
) -> None:
    zones = ["us-west-2a", "us-west-2b", "us-west-2c", "us-west-2d"]
    wider = synthesize(config_with({"availability_zones": zones}), tmp_path_factory.mktemp("4az"))
    before = resources(default_synth.network, "AWS::EC2::Subnet")
    after = resources(wider.network, "AWS::EC2::Subnet")
    assert len(after) == 8
    for logical_id, subnet in before.items():
        assert after[logical_id]["Properties"] == subnet["Properties"], logical_id


def test_an_account_set_needs_no_availability_zone_lookup(tmp_path: Path) -> None:
    """With account and region both set, Stack.availability_zones would ask the CDK CLI to look
    the zones up (AWS credentials); the network stack answers with the configured zones."""
    config = config_with({"account": "123456789012"})
    app = cdk.App(outdir=str(tmp_path))
    env = cdk.Environment(account=config.account, region=config.region)
    stack = NetworkStack(app, "Network", config=config, env=env)
    assembly = app.synth()
    assert stack.availability_zones == ["us-west-2a", "us-west-2b", "us-west-2c"]
    assert "missing" not in json.loads((Path(assembly.directory) / "manifest.json").read_text())
    assert not (tmp_path / "cdk.context.json").exists()
