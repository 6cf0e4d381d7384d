#!/usr/bin/env python3
"""The floor the benchmark compares against: a bare aws_eks_v2 cluster, nothing of ours.

Same VPC layout, same number of node groups (one system group over every zone, one GPU group
per configured GPU group), the kubectl provider, and nothing else: no config validation, no
cdk-nag, no charts, no custom resources, no launch templates. Reads the same cdk.json defaults
(or ``-c config=PATH`` override's GPU group count) with plain json/yaml.
"""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import aws_cdk as cdk
import yaml
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks

app = cdk.App()
config = dict(app.node.try_get_context("cluster"))
override = app.node.try_get_context("config")
if override:
    config.update(yaml.safe_load(Path(override).read_text()))
env = cdk.Environment(region=config["region"])
minor = config["kubernetes_version"].split(".")[1]  # "1.36" -> "36"

network = cdk.Stack(app, "floor-network", env=env)
vpc = ec2.Vpc(
    network,
    "Vpc",
    ip_addresses=ec2.IpAddresses.cidr(config["vpc_cidr"]),
    availability_zones=sorted(config["availability_zones"]),
    nat_gateways=config["nat_gateways"],
    subnet_configuration=[
        ec2.SubnetConfiguration(name="Public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=21),
        ec2.SubnetConfiguration(
            name="Private", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=19
        ),
    ],
)
stack = cdk.Stack(app, "floor-cluster", env=env)
layer_module = importlib.import_module(f"aws_cdk.lambda_layer_kubectl_v{minor}")
cluster = eks.Cluster(
    stack,
    "Cluster",
    version=eks.KubernetesVersion.of(config["kubernetes_version"]),
    vpc=vpc,
    default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
    default_capacity=0,
    kubectl_provider_options=eks.KubectlProviderOptions(
        kubectl_layer=getattr(layer_module, f"KubectlV{minor}Layer")(stack, "KubectlLayer")
    ),
)
system = config["system_node_group"]


def plain_instance_types(nodegroup: eks.Nodegroup, instance_types: list[str]) -> None:
    # Plain strings on the resource, as the app does: ec2.InstanceType cannot parse p6-b200.
    cfn = nodegroup.node.default_child
    assert isinstance(cfn, eks.CfnNodegroup)
    cfn.instance_types = list(instance_types)


plain_instance_types(
    cluster.add_nodegroup_capacity(
        "System",
        ami_type=eks.NodegroupAmiType.AL2023_X86_64_STANDARD,
        capacity_type=eks.CapacityType.SPOT,
        min_size=system["min_size"],
        max_size=system["max_size"],
    ),
    system["instance_types"],
)
for index, pool in enumerate(config["gpu_pools"]):
    for zone in pool.get("availability_zones") or config["availability_zones"]:
        plain_instance_types(
            cluster.add_nodegroup_capacity(
                f"Gpu{index}{zone[-1].upper()}",
                ami_type=eks.NodegroupAmiType.AL2023_X86_64_NVIDIA,
                capacity_type=eks.CapacityType.SPOT,
                min_size=pool["min_size"],
                max_size=pool["max_size"],
                subnets=ec2.SubnetSelection(availability_zones=[zone]),
            ),
            pool["instance_types"],
        )
app.synth()
print(json.dumps({"stacks": [s.stack_name for s in (network, stack)]}))
if app.node.try_get_context("fast_exit") == "true":  # bench/run.py's floor-x
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from cli.outcome import finish

    finish()
