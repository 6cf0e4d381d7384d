"""Launch template for managed node groups: IMDSv2 only, encrypted gp3 root volume, and an
optional nodeadm NodeConfig part in the user data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import yaml
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from aws_rules import ebs
from aws_rules.ec2_launch_template import PRIMARY_INTERFACE_TYPE, NetworkInterface

ROOT_DEVICE = "/dev/xvda"  # root device of the EKS AL2023 AMIs
NODECONFIG_CONTENT_TYPE = "application/node.eks.aws"
"""MIME type of a NodeConfig part of AL2023 user data: awslabs/amazon-eks-ami tag v20260724,
``nodeadm/internal/configprovider/userdata.go`` ``nodeConfigMediaType`` ("application/" +
the API group), read by ``mime.go`` ``ParseMultipart`` (a ``multipart/*`` message whose parts of
that type are decoded and merged)."""


class NodeLaunchTemplate(Construct):
    """A launch template for EKS managed node groups (no AMI, no instance type: EKS sets those).

    - Root volume ``root_volume_gib`` GiB, gp3, encrypted; ``throughput_mibps`` and ``iops``
      unset leave gp3's baseline (125 MiB/s, 3000 IOPS) and write nothing, so a template
      without them is the same as before they existed. They are checked against EBS's gp3
      limits (``aws_rules/ebs.py``): EC2 would refuse them only at deploy.
    - ``node_config``: a nodeadm NodeConfig document added to the user data as a MIME part of
      type ``application/node.eks.aws``; EKS merges it with its own (a managed group's launch
      template without an AMI must hold MIME multi-part user data, EKS user guide "Customizing
      managed nodes with launch templates"). Unset, the template has no user data.
    - IMDS hop limit 1 keeps pods (not on the host network) from reading the node role's
      credentials; add-ons get their own identity through EKS Pod Identity.
    - ``network_interfaces`` (an EFA group's, ``aws_rules/ec2_launch_template.py``): written as
      the template's ``NetworkInterfaces``, each with ``security_group_ids``. A template with
      interfaces takes its security groups there, and EKS then adds none, so the cluster
      security group must be one of them (EC2 ``LaunchTemplateInstanceNetworkInterface
      SpecificationRequest``; terraform-aws-eks 21.19.0 passes its node groups' list to every
      interface the same way). No ``SubnetId``: EKS refuses a managed group's template with one
      (EKS user guide, device-management-efa, "EKS managed node groups"). The first interface
      must be the primary (card 0, device 0), which carries the node's primary IP.
    - ``placement_group``: the template's ``Placement.GroupName``.

    Any change makes a new template version, which rolls the nodes of every group using it.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        root_volume_gib: int,
        throughput_mibps: int | None = None,
        iops: int | None = None,
        node_config: Mapping[str, Any] | None = None,
        network_interfaces: Sequence[NetworkInterface] = (),
        security_group_ids: Sequence[str] = (),
        placement_group: ec2.IPlacementGroup | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        problems = ebs.gp3_problems(root_volume_gib, throughput_mibps, iops)
        problems += _interface_problems(network_interfaces, security_group_ids)
        if problems:
            raise ValueError(f"{construct_id}: " + "; ".join(problems))
        self.root_volume_gib = root_volume_gib
        self.throughput_mibps = throughput_mibps
        self.network_interfaces = tuple(network_interfaces)
        self.node_config = dict(node_config) if node_config is not None else None
        self.user_data = _user_data(self.node_config) if self.node_config is not None else None
        self.launch_template = ec2.LaunchTemplate(
            self,
            "Resource",
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            user_data=self.user_data,
            placement_group=placement_group,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        root_volume_gib,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        delete_on_termination=True,
                        throughput=throughput_mibps,
                        iops=iops,
                    ),
                )
            ],
        )
        if network_interfaces:
            cfn = self.launch_template.node.default_child
            assert isinstance(cfn, ec2.CfnLaunchTemplate)
            cfn.add_property_override(
                "LaunchTemplateData.NetworkInterfaces",
                [
                    {
                        "NetworkCardIndex": i.network_card_index,
                        "DeviceIndex": i.device_index,
                        "InterfaceType": i.interface_type,
                        "Groups": list(security_group_ids),
                        "DeleteOnTermination": True,
                    }
                    for i in network_interfaces
                ],
            )


def _interface_problems(
    interfaces: Sequence[NetworkInterface], security_group_ids: Sequence[str]
) -> list[str]:
    """What EC2 or EKS would refuse in a template's interfaces."""
    if not interfaces:
        return ["security_group_ids without network_interfaces"] if security_group_ids else []
    problems = []
    first = interfaces[0]
    if (first.network_card_index, first.device_index, first.interface_type) != (
        0,
        0,
        PRIMARY_INTERFACE_TYPE,
    ):
        problems.append(
            f"the first network interface must be the primary (card 0, device 0, type "
            f"{PRIMARY_INTERFACE_TYPE}), got {first}"
        )
    slots = [(i.network_card_index, i.device_index) for i in interfaces]
    if len(set(slots)) != len(slots):
        problems.append("two network interfaces share a network card and device index")
    if not security_group_ids:
        problems.append("network interfaces need security groups (EKS adds none then)")
    return problems


def _user_data(node_config: Mapping[str, Any]) -> ec2.MultipartUserData:
    user_data = ec2.MultipartUserData()
    user_data.add_part(
        ec2.MultipartBody.from_raw_body(
            content_type=NODECONFIG_CONTENT_TYPE,
            body=yaml.safe_dump(dict(node_config), sort_keys=False),
        )
    )
    return user_data
