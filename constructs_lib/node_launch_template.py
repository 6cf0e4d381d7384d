"""Launch template shared by managed node groups: IMDSv2 only, encrypted gp3 root volume."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from constructs import Construct

ROOT_DEVICE = "/dev/xvda"  # root device of the EKS AL2023 AMIs


class NodeLaunchTemplate(Construct):
    """A launch template for EKS managed node groups (no AMI, no instance type: EKS sets those).

    Several groups share one template on purpose: a managed group with a custom template gets the
    node labels ``eks.amazonaws.com/sourceLaunchTemplateId``/``Version``, which the cluster
    autoscaler compares for ``--balance-similar-node-groups``; one template keeps them equal.

    IMDS hop limit 1 keeps pods (not on the host network) from reading the node role's
    credentials; add-ons get their own identity through EKS Pod Identity.
    """

    def __init__(self, scope: Construct, construct_id: str, *, root_volume_gib: int) -> None:
        super().__init__(scope, construct_id)
        self.root_volume_gib = root_volume_gib
        self.launch_template = ec2.LaunchTemplate(
            self,
            "Resource",
            require_imdsv2=True,
            http_tokens=ec2.LaunchTemplateHttpTokens.REQUIRED,
            http_put_response_hop_limit=1,
            block_devices=[
                ec2.BlockDevice(
                    device_name=ROOT_DEVICE,
                    volume=ec2.BlockDeviceVolume.ebs(
                        root_volume_gib,
                        volume_type=ec2.EbsDeviceVolumeType.GP3,
                        encrypted=True,
                        delete_on_termination=True,
                    ),
                )
            ],
        )
