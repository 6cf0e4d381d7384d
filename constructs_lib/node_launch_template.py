"""Launch template for managed node groups: IMDSv2 only, encrypted gp3 root volume, and an
optional nodeadm NodeConfig part in the user data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import yaml
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from cluster_config import ebs

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
      limits (``cluster_config/ebs.py``): EC2 would refuse them only at deploy.
    - ``node_config``: a nodeadm NodeConfig document added to the user data as a MIME part of
      type ``application/node.eks.aws``; EKS merges it with its own (a managed group's launch
      template without an AMI must hold MIME multi-part user data, EKS user guide "Customizing
      managed nodes with launch templates"). Unset, the template has no user data.
    - IMDS hop limit 1 keeps pods (not on the host network) from reading the node role's
      credentials; add-ons get their own identity through EKS Pod Identity.

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
    ) -> None:
        super().__init__(scope, construct_id)
        problems = ebs.gp3_problems(root_volume_gib, throughput_mibps, iops)
        if problems:
            raise ValueError(f"{construct_id}: " + "; ".join(problems))
        self.root_volume_gib = root_volume_gib
        self.throughput_mibps = throughput_mibps
        self.node_config = dict(node_config) if node_config is not None else None
        self.user_data = _user_data(self.node_config) if self.node_config is not None else None
        self.launch_template = ec2.LaunchTemplate(
            self,
            "Resource",
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            user_data=self.user_data,
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


def _user_data(node_config: Mapping[str, Any]) -> ec2.MultipartUserData:
    user_data = ec2.MultipartUserData()
    user_data.add_part(
        ec2.MultipartBody.from_raw_body(
            content_type=NODECONFIG_CONTENT_TYPE,
            body=yaml.safe_dump(dict(node_config), sort_keys=False),
        )
    )
    return user_data
