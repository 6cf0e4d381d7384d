"""EFA pools in the synthesized stack: interfaces, placement group, security group, tags
(examples/multi-node-training.yaml, synthesized once)."""

from __future__ import annotations

from typing import Any

import pytest

from aws_rules.ec2_launch_template import NetworkInterface
from tests.support import nodegroups_by_name, resources
from verify.synth import Synthesis


def by_prefix(template: dict[str, Any], resource_type: str, prefix: str) -> dict[str, Any]:
    (resource,) = (r for k, r in resources(template, resource_type).items() if k.startswith(prefix))
    return resource


def training_template(synth: Synthesis) -> dict[str, Any]:
    data: dict[str, Any] = by_prefix(
        synth.cluster, "AWS::EC2::LaunchTemplate", "TrainingALaunchTemplate"
    )["Properties"]["LaunchTemplateData"]
    return data


def logical_id(synth: Synthesis, resource_type: str, prefix: str) -> str:
    (key,) = (k for k in resources(synth.cluster, resource_type) if k.startswith(prefix))
    return key


def test_the_efa_group_template_has_every_efa_interface(efa_synth: Synthesis) -> None:
    # Bug caught: a p5 training group launched with one ordinary interface (no EFA at all).
    interfaces = training_template(efa_synth)["NetworkInterfaces"]
    assert len(interfaces) == 33
    assert [(i["NetworkCardIndex"], i["DeviceIndex"], i["InterfaceType"]) for i in interfaces][
        :3
    ] == [(0, 0, "interface"), (0, 1, "efa-only"), (1, 0, "efa-only")]
    assert sorted(
        i["NetworkCardIndex"] for i in interfaces if i["InterfaceType"] == "efa-only"
    ) == (list(range(32)))
    # EKS refuses a managed group's template with a subnet; the groups come from the node group.
    assert not any("SubnetId" in i for i in interfaces)


def test_every_interface_has_the_cluster_and_the_efa_security_groups(
    efa_synth: Synthesis,
) -> None:
    # Bug caught: a template with interfaces but only the EFA group: EKS then adds no cluster
    # security group, and the node cannot reach the control plane or other pods.
    data = training_template(efa_synth)
    cluster = logical_id(efa_synth, "AWS::EKS::Cluster", "Cluster")
    efa_sg = logical_id(efa_synth, "AWS::EC2::SecurityGroup", "TrainingEfaSecurityGroup")
    expected = [
        {"Fn::GetAtt": [cluster, "ClusterSecurityGroupId"]},
        {"Fn::GetAtt": [efa_sg, "GroupId"]},
    ]
    assert all(i["Groups"] == expected for i in data["NetworkInterfaces"])
    assert "SecurityGroupIds" not in data


def test_the_efa_group_launches_into_its_own_cluster_placement_group(
    efa_synth: Synthesis,
) -> None:
    placement = logical_id(efa_synth, "AWS::EC2::PlacementGroup", "TrainingAPlacementGroup")
    assert efa_synth.cluster["Resources"][placement]["Properties"] == {"Strategy": "cluster"}
    assert training_template(efa_synth)["Placement"] == {
        "GroupName": {"Fn::GetAtt": [placement, "GroupName"]}
    }
    assert len(resources(efa_synth.cluster, "AWS::EC2::PlacementGroup")) == 1


def test_the_efa_security_group_allows_all_traffic_to_and_from_itself_only(
    efa_synth: Synthesis,
) -> None:
    sg = logical_id(efa_synth, "AWS::EC2::SecurityGroup", "TrainingEfaSecurityGroup")
    me = {"Fn::GetAtt": [sg, "GroupId"]}
    ingress = [
        r["Properties"]
        for r in resources(efa_synth.cluster, "AWS::EC2::SecurityGroupIngress").values()
        if r["Properties"]["GroupId"] == me
    ]
    egress = [
        r["Properties"]
        for r in resources(efa_synth.cluster, "AWS::EC2::SecurityGroupEgress").values()
        if r["Properties"]["GroupId"] == me
    ]
    assert [(r["IpProtocol"], r["SourceSecurityGroupId"]) for r in ingress] == [("-1", me)]
    assert [(r["IpProtocol"], r["DestinationSecurityGroupId"]) for r in egress] == [("-1", me)]
    # No inline rule (allow_all_outbound would add 0.0.0.0/0 egress).
    props = efa_synth.cluster["Resources"][sg]["Properties"]
    assert "SecurityGroupIngress" not in props and "SecurityGroupEgress" not in props


def test_only_the_efa_group_uses_an_efa_template(efa_synth: Synthesis) -> None:
    groups = nodegroups_by_name(efa_synth.cluster)
    template_of = {n: g["LaunchTemplate"]["Id"]["Ref"] for n, g in groups.items()}
    assert template_of["training-a"].startswith("TrainingALaunchTemplate")
    inference = {template_of[n] for n in ("inference-a", "inference-b", "inference-c")}
    (shared,) = inference
    assert shared.startswith("GpuLaunchTemplate")
    data = efa_synth.cluster["Resources"][shared]["Properties"]["LaunchTemplateData"]
    assert "NetworkInterfaces" not in data and "Placement" not in data


def test_the_efa_group_asg_gets_the_efa_resource_tag(efa_synth: Synthesis) -> None:
    # Bug caught: from zero the autoscaler's template node has no vpc.amazonaws.com/efa, so a
    # pod requesting it never scales the pool up.
    key = "k8s.io/cluster-autoscaler/node-template/resources/vpc.amazonaws.com/efa"
    tags = {
        r["Properties"]["NodegroupName"]["Fn::GetAtt"][0]: r["Properties"]["Tags"]
        for r in resources(efa_synth.cluster, "Custom::AsgNodeTemplateTags").values()
    }
    with_efa = {group: t[key] for group, t in tags.items() if key in t}
    assert list(with_efa.values()) == ["32"]
    (group,) = with_efa
    assert group.startswith("TrainingA")


# --- the launch template construct on its own ----------------------------------------------


def _template(**kwargs: Any) -> None:
    from aws_cdk import App, Stack

    from constructs_lib.node_launch_template import NodeLaunchTemplate

    NodeLaunchTemplate(Stack(App(), "S"), "Lt", root_volume_gib=100, **kwargs)


def test_a_template_with_interfaces_but_no_security_group_is_refused() -> None:
    # Bug caught: EKS adds no cluster security group to a template with interfaces; without
    # one of ours the node could reach nothing.
    with pytest.raises(ValueError, match="network interfaces need security groups"):
        _template(network_interfaces=[NetworkInterface(0, 0, "interface")])


def test_a_template_whose_first_interface_is_not_the_primary_is_refused() -> None:
    with pytest.raises(ValueError, match="the first network interface must be the primary"):
        _template(
            network_interfaces=[NetworkInterface(1, 0, "efa-only")], security_group_ids=["sg-1"]
        )
