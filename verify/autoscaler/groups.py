"""The node groups of the synthesized cluster template, as the autoscaler's AWS provider finds them.

Each ``AWS::EKS::Nodegroup`` with what ``eks:DescribeNodegroup`` returns, its subnets followed to
their zones through the network stack's exports, its root volume, and the tags of the ASG EKS
creates for it (EKS's own, then the node-template tags ``Custom::AsgNodeTemplateTags`` adds);
and whether the autoscaler's ``--node-group-auto-discovery`` finds that ASG.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from cluster_config.catalog import ALL_INSTANCE_TYPES
from cluster_config.labels import GPU_TAINT_KEY
from verify.autoscaler_model import NodegroupDescription


@dataclass(frozen=True)
class GroupFacts:
    """A managed node group as the synthesized templates declare it and the autoscaler reads it."""

    logical_id: str
    name: str
    zones: list[str]
    instance_types: list[str]
    min_size: int
    max_size: int
    nodegroup: NodegroupDescription
    root_volume_gib: int
    """From the group's launch template (or ``DiskSize``; EKS's default 20 without either)."""
    asg_tags: list[tuple[str, str]]
    """What EKS tags the ASG with, then the node-template tags our custom resource adds."""

    @property
    def gpu(self) -> bool:
        return any(key == GPU_TAINT_KEY for key, _, _ in self.nodegroup.taints) or any(
            ALL_INSTANCE_TYPES[t].gpus for t in self.instance_types if t in ALL_INSTANCE_TYPES
        )


def eks_asg_tags(cluster_name: str, nodegroup_name: str) -> list[tuple[str, str]]:
    """Tags EKS puts on a managed group's ASG (EKS user guide, managed node groups; the
    autoscaler's aws_manager_test.go uses the same ``eks:`` keys)."""
    return [
        ("eks:cluster-name", cluster_name),
        ("eks:nodegroup-name", nodegroup_name),
        ("k8s.io/cluster-autoscaler/enabled", "true"),
        (f"k8s.io/cluster-autoscaler/{cluster_name}", "owned"),
        (f"kubernetes.io/cluster/{cluster_name}", "owned"),
    ]


def read_groups(cluster: Mapping[str, Any], network: Mapping[str, Any]) -> list[GroupFacts]:
    """Each managed node group with its DescribeNodegroup view and the tags of its ASG."""
    resources = cluster["Resources"]
    cluster_name = next(
        r["Properties"]["Name"] for r in resources.values() if r["Type"] == "AWS::EKS::Cluster"
    )
    zones = _subnet_zones(network)
    template_tags = _node_template_tags(resources)
    groups: list[GroupFacts] = []
    for logical_id, resource in resources.items():
        if resource["Type"] != "AWS::EKS::Nodegroup":
            continue
        props = resource["Properties"]
        name = props["NodegroupName"]
        groups.append(
            GroupFacts(
                logical_id=logical_id,
                name=name,
                zones=sorted(zones[_import_name(s)] for s in props["Subnets"]),
                instance_types=list(props["InstanceTypes"]),
                min_size=props["ScalingConfig"]["MinSize"],
                max_size=props["ScalingConfig"]["MaxSize"],
                nodegroup=_describe_nodegroup(props),
                root_volume_gib=_root_volume_gib(resources, props),
                asg_tags=[*eks_asg_tags(cluster_name, name), *template_tags.get(logical_id, [])],
            )
        )
    return sorted(groups, key=lambda g: (g.gpu, g.name))


def _node_template_tags(resources: Mapping[str, Any]) -> dict[str, list[tuple[str, str]]]:
    """Node group logical ID -> the node-template tags ``Custom::AsgNodeTemplateTags`` adds to
    its ASG, each resource's sorted by key."""
    template_tags: dict[str, list[tuple[str, str]]] = {}
    for resource in resources.values():
        if resource["Type"] == "Custom::AsgNodeTemplateTags":
            owner = resource["Properties"]["NodegroupName"]["Fn::GetAtt"][0]
            template_tags.setdefault(owner, []).extend(
                sorted(resource["Properties"]["Tags"].items())
            )
    return template_tags


def _describe_nodegroup(props: Mapping[str, Any]) -> NodegroupDescription:
    """What ``eks:DescribeNodegroup`` returns for an ``AWS::EKS::Nodegroup``'s properties."""
    return NodegroupDescription(
        name=props["NodegroupName"],
        ami_type=props.get("AmiType", ""),
        capacity_type=props.get("CapacityType", ""),
        version=props.get("Version", ""),
        disk_size=props.get("DiskSize"),
        labels=dict(props.get("Labels", {})),
        tags=dict(props.get("Tags", {})),
        taints=[(t["Key"], t.get("Value"), t["Effect"]) for t in props.get("Taints", [])],
    )


def _root_volume_gib(resources: Mapping[str, Any], props: Mapping[str, Any]) -> int:
    template_id = props.get("LaunchTemplate", {}).get("Id", {})
    if isinstance(template_id, dict) and template_id.get("Ref") in resources:
        data = resources[template_id["Ref"]]["Properties"]["LaunchTemplateData"]
        for mapping in data.get("BlockDeviceMappings", []):
            if "Ebs" in mapping and "VolumeSize" in mapping["Ebs"]:
                return int(mapping["Ebs"]["VolumeSize"])
    return int(props.get("DiskSize", 20))


def _import_name(subnet: Any) -> str:
    return str(subnet["Fn::ImportValue"]) if isinstance(subnet, dict) else str(subnet)


def _subnet_zones(network: Mapping[str, Any]) -> dict[str, str]:
    """Export name -> zone of the subnet it exports."""
    zones = {
        logical_id: r["Properties"]["AvailabilityZone"]
        for logical_id, r in network["Resources"].items()
        if r["Type"] == "AWS::EC2::Subnet"
    }
    return {
        output["Export"]["Name"]: zones[output["Value"]["Ref"]]
        for output in network.get("Outputs", {}).values()
        if "Export" in output and output["Value"].get("Ref") in zones
    }


def discovered(flags_args: Sequence[str], tags: Sequence[tuple[str, str]]) -> bool:
    """``--node-group-auto-discovery=asg:tag=k1[=v1],k2...``: an ASG is managed when it has
    every key (with the value, when given): aws_manager.go ``parseASGAutoDiscoverySpec``,
    auto_scaling_groups.go (ASGs filtered by tag)."""
    have = dict(tags)
    specs = [a.split("=", 1)[1] for a in flags_args if a.startswith("--node-group-auto-discovery=")]
    for spec in specs:
        kind, _, param = spec.partition(":")
        key, _, wanted = param.partition("=")
        if kind != "asg" or key != "tag":
            continue
        pairs = [p.split("=", 1) for p in wanted.split(",")]
        if all(p[0] in have and (len(p) == 1 or have[p[0]] == p[1]) for p in pairs):
            return True
    return False
