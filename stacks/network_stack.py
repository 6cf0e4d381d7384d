"""The VPC: public and private subnets in each configured AZ, tagged for load balancers."""

from __future__ import annotations

from typing import Any

from aws_cdk import Stack, Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cluster_config import ClusterConfig


class NetworkStack(Stack):
    """VPC over exactly ``config.availability_zones`` (named, so synth needs no AZ lookup).

    Nodes live in the private subnets; ``config.nat_gateways`` NAT gateways give them egress
    (one by default: cheapest, but a single AZ's outage cuts egress for all).
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: ClusterConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        prefix = config.vpc_cidr.prefixlen
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(config.vpc_cidr)),
            availability_zones=list(config.availability_zones),
            nat_gateways=config.nat_gateways,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=prefix + 5
                ),
                # Large private subnets: the VPC CNI gives every pod an address from them.
                ec2.SubnetConfiguration(
                    name="Private",
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    cidr_mask=prefix + 3,
                ),
            ],
            flow_logs={"FlowLogs": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.REJECT)},
        )
        for subnet in self.vpc.public_subnets:
            Tags.of(subnet).add("kubernetes.io/role/elb", "1")
        for subnet in self.vpc.private_subnets:
            Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")
