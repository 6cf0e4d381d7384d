"""The VPC: named AZs (no lookups), public/private subnets tagged for load balancers."""

from __future__ import annotations

import pytest
from aws_cdk.assertions import Match, Template

from tests.support import Synthesized, config_with, resources, synthesize


@pytest.fixture(scope="module")
def template(default_synth: Synthesized) -> Template:
    return Template.from_json(default_synth.network)


def test_vpc_uses_the_configured_cidr(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.0.0.0/16"})


def test_one_public_and_one_private_subnet_per_configured_zone(default_synth: Synthesized) -> None:
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


def test_rejected_traffic_is_flow_logged(template: Template) -> None:
    template.has_resource_properties("AWS::EC2::FlowLog", {"TrafficType": "REJECT"})


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
