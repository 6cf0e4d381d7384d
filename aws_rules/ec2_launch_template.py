"""The network interfaces of an EC2 launch template, as EC2 takes them.

Source (read 2026-12-02): the EC2 API model shipped in botocore 1.44.5, shape
``LaunchTemplateInstanceNetworkInterfaceSpecificationRequest``: ``InterfaceType`` "Valid values:
interface | efa | efa-only" (``efa-only``: "do not assign any IP addresses"); ``NetworkCardIndex``
"The primary network interface must be assigned to network card index 0"; ``DeviceIndex`` "The
primary network interface has a device index of 0".
"""

from __future__ import annotations

from dataclasses import dataclass

PRIMARY_INTERFACE_TYPE = "interface"
"""An ENA interface: the primary's type on an EKS node with EFA (EKS user guide, "Manage EFA
devices on Amazon EKS", awsdocs/amazon-eks-user-guide ``latest/ug/ml/device-management-efa.adoc``
at 43d79bdb: the primary carries the node's IP address, which EKS and the VPC CNI use)."""
EFA_ONLY_INTERFACE_TYPE = "efa-only"


@dataclass(frozen=True)
class NetworkInterface:
    """One entry of a launch template's ``NetworkInterfaces``."""

    network_card_index: int
    device_index: int
    interface_type: str
