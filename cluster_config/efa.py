"""Elastic Fabric Adapter on a GPU pool: which types take it, the network interfaces of its
launch template, the resource its device plugin advertises and where that image lives.

Rules and their sources (read 2026-12):

- A type takes EFA when EC2's DescribeInstanceTypes says ``NetworkInfo.EfaSupported``; the cards
  that take one are those with ``MaximumEfaInterfaces`` > 0 (``cluster_config/data/
  ec2-instance-types.tsv``, columns ``efa_supported`` and ``efa_cards``).
- The interfaces follow the EKS user guide, "Manage EFA devices on Amazon EKS", section "EKS
  managed node groups and self-managed nodes" (awsdocs/amazon-eks-user-guide
  ``latest/ug/ml/device-management-efa.adoc`` at 43d79bdb), and the EC2 user guide, "Maximize
  network bandwidth on Amazon EC2 instances with multiple network cards": the primary interface
  (card 0, device 0) is an ENA ``interface`` (an EFA-only interface cannot be primary, and it
  carries the node's primary IP, which EKS and the VPC CNI use); if card 0 takes EFA, an
  ``efa-only`` interface at card 0, device 1; every other EFA card an ``efa-only`` interface at
  device 0. EFA-only interfaces take no IP address, so a p5.48xlarge uses one subnet address for
  its 32 EFAs (the guide's "Conserving IP address allocation"). eksctl (``efaEnabled``,
  pkg/cfn/builder/network_interfaces.go at 99984adb) makes every interface ``efa`` with device 1
  on cards > 0, and terraform-aws-eks 21.19.0 (``enable_efa_support``, modules/
  eks-managed-node-group/main.tf) ``efa`` on card 0 and ``efa-only`` at device 1 elsewhere; both
  count cards with ``MaximumNetworkCards``, which on p6-b300.48xlarge (17 cards, EFA on 1-16)
  would ask for EFA on a card that has none.
- The interfaces and the device plugin give a node one ``vpc.amazonaws.com/efa`` per EFA
  interface: ``len(efa_cards)``, which equals ``MaximumEfaInterfaces`` for every EFA type EC2
  lists (tests/test_efa.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from aws_rules.ec2_launch_template import (
    EFA_ONLY_INTERFACE_TYPE,
    PRIMARY_INTERFACE_TYPE,
    NetworkInterface,
)
from cluster_config.catalog import GPU_INSTANCE_TYPES, InstanceShape

EFA_RESOURCE = "vpc.amazonaws.com/efa"
"""The extended resource the EFA device plugin advertises (one per EFA interface)."""

_REGISTRIES_FILE = Path(__file__).parent / "data" / "eks-addon-registries.json"
EKS_ADDON_REGISTRIES: dict[str, str] = json.loads(_REGISTRIES_FILE.read_text(encoding="utf-8"))[
    "registries"
]
"""Region -> the ECR registry EKS replicates its add-on images to (source in the file)."""


def efa_network_interfaces(shape: InstanceShape) -> tuple[NetworkInterface, ...]:
    """The launch template interfaces of an EFA node of ``shape`` (module docstring)."""
    return (
        NetworkInterface(0, 0, PRIMARY_INTERFACE_TYPE),
        *(
            NetworkInterface(card, 1 if card == 0 else 0, EFA_ONLY_INTERFACE_TYPE)
            for card in shape.efa_cards
        ),
    )


def efa_interface_count(shape: InstanceShape) -> int:
    """``vpc.amazonaws.com/efa`` a node of ``shape`` advertises."""
    return len(shape.efa_cards)


def efa_types() -> list[str]:
    """Every GPU type a pool may use with ``efa: true``."""
    return [name for name, shape in GPU_INSTANCE_TYPES.items() if shape.efa_supported]


def efa_problems(instance_types: Sequence[str]) -> list[str]:
    """Why a pool of ``instance_types`` cannot have ``efa: true`` (paths inside the pool)."""
    problems = []
    shapes = {n: GPU_INSTANCE_TYPES[n] for n in instance_types if n in GPU_INSTANCE_TYPES}
    multi_card = sorted(
        (n for n in efa_types() if GPU_INSTANCE_TYPES[n].network_cards > 1),
        key=lambda n: (-efa_interface_count(GPU_INSTANCE_TYPES[n]), n),
    )
    for j, name in enumerate(instance_types):
        shape = shapes.get(name)
        if shape is not None and not (shape.efa_supported and shape.efa_cards):
            problems.append(
                f"instance_types.{j}: {name!r} has no EFA (EC2's DescribeInstanceTypes: "
                "NetworkInfo.EfaSupported is false, cluster_config/data/ec2-instance-types.tsv), "
                "so efa: true cannot be set; use an EFA type, e.g. "
                f"{', '.join(multi_card[:6])}, or remove efa"
            )
    layouts = {n: s.efa_cards for n, s in shapes.items() if s.efa_supported and s.efa_cards}
    if len(set(layouts.values())) > 1:
        described = ", ".join(
            f"{n}={len(cards)} on cards {_cards_text(cards)}" for n, cards in layouts.items()
        )
        problems.append(
            f"instance_types: types differ in their EFA interfaces ({described}); a group's "
            "launch template gives every type the same network interfaces, so put each in its "
            "own pool"
        )
    return problems


def region_problem(region: str) -> str | None:
    """Why the EFA device plugin image cannot be named for ``region``, or None."""
    if region in EKS_ADDON_REGISTRIES:
        return None
    return (
        f"region {region!r} has no EKS add-on image registry listed in "
        f"cluster_config/data/{_REGISTRIES_FILE.name} (EKS user guide, add-ons-images), so the "
        "EFA device plugin's image cannot be named; use a region listed there, or remove efa"
    )


def _cards_text(cards: Sequence[int]) -> str:
    if len(cards) > 1 and list(cards) == list(range(cards[0], cards[-1] + 1)):
        return f"{cards[0]}-{cards[-1]}"
    return ",".join(map(str, cards))
