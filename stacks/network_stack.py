"""The VPC: public and private subnets in each configured AZ, tagged for load balancers."""

from __future__ import annotations

from ipaddress import IPv4Network
from typing import Any

from aws_cdk import Acknowledgment, CustomResourceProviderBase, Stack, Tags, Validations
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cluster_config import ClusterConfig
from constructs_lib.custom_resource_provider_logs import log_to_own_group
from constructs_lib.flow_log_trust import confine_flow_log_role

RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"
"""What aws-cdk-lib 2.275 ``aws-ec2/lib/vpc.ts`` ``restrictDefaultSecurityGroup`` names its provider
(feature flag ``@aws-cdk/aws-ec2:restrictDefaultSecurityGroup``)."""

MAX_ZONES = 6
"""Address slots per subnet type; zones a..f of a region each own one slot."""

ZONE_ID_METADATA = "gpu-spot:availability-zone-id"
"""Subnet metadata key holding the zone ID the config gives for the subnet's zone."""


class NetworkStack(Stack):
    """VPC over exactly ``config.availability_zones`` (named, so synth needs no AZ lookup).

    Nodes live in the private subnets; ``config.nat_gateways`` NAT gateways give them egress
    (one by default: cheapest, but a single AZ's outage cuts egress for all).

    Each subnet's CIDR is a fixed slot chosen by its zone's letter, not by how many zones there
    are: adding a zone later adds subnets without moving (and so replacing) the existing ones.
    Zones are laid out in name order, so append zones that sort after the existing ones.
    """

    def __init__(
        self, scope: Construct, construct_id: str, *, config: ClusterConfig, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self._zones = sorted(config.availability_zones)
        prefix = config.vpc_cidr.prefixlen
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(str(config.vpc_cidr)),
            availability_zones=self._zones,
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
            # All traffic, accepted and rejected (CIS AWS Foundations, VPC flow logging): the
            # record of what a compromised pod talked to, not only what was refused.
            flow_logs={"FlowLogs": ec2.FlowLogOptions(traffic_type=ec2.FlowLogTrafficType.ALL)},
        )
        flow_log = self.vpc.node.find_child("FlowLogs")
        assert isinstance(flow_log, ec2.FlowLog)
        confine_flow_log_role(flow_log)
        # The Lambda that empties the default security group logs to its own group only.
        restrict_default_sg = self.node.try_find_child(RESTRICT_DEFAULT_SG_PROVIDER)
        if isinstance(restrict_default_sg, CustomResourceProviderBase):
            log_to_own_group(restrict_default_sg)
        Validations.of(self.vpc).acknowledge(
            Acknowledgment(
                id="CloudFormation-Validate::W3010",
                reason="Zones are named on purpose: synth is offline (no zone lookup) and each "
                "GPU node group is pinned to one zone of the config.",
            )
        )
        for subnet in self.vpc.public_subnets:
            Tags.of(subnet).add("kubernetes.io/role/elb", "1")
        for subnet in self.vpc.private_subnets:
            Tags.of(subnet).add("kubernetes.io/role/internal-elb", "1")
        self._pin_subnet_cidrs(config.vpc_cidr)
        # Every private subnet is exported, used or not (the same exports aws-cdk-lib makes for
        # the cluster stack's references): a zone's node groups can then be removed in one
        # deploy and the zone in the next. CloudFormation refuses to delete an export another
        # stack still imports, and cdk deploy updates this stack first (Stack.exportValue).
        for subnet in self.vpc.private_subnets:
            self.export_value(subnet.subnet_id)
        if config.availability_zone_ids is not None:
            self._record_zone_ids(
                dict(zip(config.availability_zones, config.availability_zone_ids, strict=True))
            )

    @property
    def availability_zones(self) -> list[str]:
        """The configured zones, not a context lookup.

        ``Stack.availability_zones`` (aws-cdk-lib ``core/lib/stack.ts``) asks the CDK CLI to look
        up the account's zones whenever account and region are both set, which needs AWS
        credentials; its documentation says to override it to choose zones another way.
        ``ec2.Vpc`` reads it to check the ``availability_zones`` it is given.
        """
        return list(self._zones)

    def _pin_subnet_cidrs(self, vpc_cidr: IPv4Network) -> None:
        """Private slots: the first 6/8 of the VPC (/+3 each); public: the next 6/32 (/+5 each)."""
        prefix = vpc_cidr.prefixlen
        private = list(vpc_cidr.subnets(new_prefix=prefix + 3))
        public = list(vpc_cidr.subnets(new_prefix=prefix + 5))[4 * MAX_ZONES :]
        for subnets, slots in (
            (self.vpc.private_subnets, private),
            (self.vpc.public_subnets, public),
        ):
            for subnet in subnets:
                cfn_subnet = subnet.node.default_child
                assert isinstance(cfn_subnet, ec2.CfnSubnet)
                cfn_subnet.cidr_block = str(slots[zone_slot(subnet.availability_zone)])

    def _record_zone_ids(self, zone_ids: dict[str, str]) -> None:
        """Each subnet's zone ID, as the config states it, in the subnet's template metadata.

        For the ``zones`` check only: the subnet keeps ``AvailabilityZone`` (the name). Setting
        ``AvailabilityZoneId`` instead would pin the ID at deploy, but CloudFormation allows only
        one of the two and both are create-only (``AWS::EC2::Subnet`` resource schema), so adding
        zone IDs to a deployed config would replace every subnet. Metadata changes nothing in AWS.
        """
        for subnet in [*self.vpc.public_subnets, *self.vpc.private_subnets]:
            cfn_subnet = subnet.node.default_child
            assert isinstance(cfn_subnet, ec2.CfnSubnet)
            cfn_subnet.add_metadata(ZONE_ID_METADATA, zone_ids[subnet.availability_zone])


def zone_slot(availability_zone: str) -> int:
    """``us-west-2c`` -> 2: the zone letter's position (a..f)."""
    return ord(availability_zone[-1]) - ord("a")
