"""The charts as attached to the cluster, and the autoscaler's AWS identity."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from cdk8s import Testing as Cdk8sTesting

from tests.support import config_with, resources, synthesize
from verify.synth import Synthesis

MANIFEST = "Custom::AWSCDK-EKS-KubernetesResource"
OWNED_BY_THIS_CLUSTER = {
    "aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true",
    "aws:ResourceTag/k8s.io/cluster-autoscaler/gpu-spot": "owned",
}


def manifests(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Attached manifests keyed by the kind/name of their first object."""
    found = {}
    for logical_id, resource in resources(template, MANIFEST).items():
        objects = json.loads(resource["Properties"]["Manifest"])
        found[f"{objects[0]['kind']}/{objects[0]['metadata']['name']}"] = {
            "logical_id": logical_id,
            "objects": objects,
            "depends_on": resource.get("DependsOn", []),
        }
    return found


def without_prune_labels(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for obj in objects:
        labels = obj["metadata"].get("labels", {})
        for key in [k for k in labels if k.startswith("aws.cdk.eks/prune-")]:
            del labels[key]
        if not labels:
            obj["metadata"].pop("labels", None)
    return objects


@pytest.fixture(scope="module")
def with_smoke_test(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    return synthesize(config_with({"gpu_smoke_test": True}), tmp_path_factory.mktemp("smoke"))


def test_device_plugin_autoscaler_and_storage_class_are_attached_by_default(
    default_synth: Synthesis,
) -> None:
    assert sorted(manifests(default_synth.cluster)) == [
        "DaemonSet/nvidia-device-plugin-daemonset",
        "ServiceAccount/cluster-autoscaler",
        "StorageClass/gp3",
    ]


def test_attached_manifests_are_the_charts(default_synth: Synthesis) -> None:
    attached = manifests(default_synth.cluster)
    charts = default_synth.stacks.charts
    assert without_prune_labels(
        attached["DaemonSet/nvidia-device-plugin-daemonset"]["objects"]
    ) == (list(Cdk8sTesting.synth(charts.device_plugin)))
    assert without_prune_labels(attached["ServiceAccount/cluster-autoscaler"]["objects"]) == (
        list(Cdk8sTesting.synth(charts.autoscaler))
    )


def test_autoscaler_is_applied_after_its_identity(default_synth: Synthesis) -> None:
    autoscaler = manifests(default_synth.cluster)["ServiceAccount/cluster-autoscaler"]
    association = next(iter(resources(default_synth.cluster, "AWS::EKS::PodIdentityAssociation")))
    agent = next(
        k
        for k, r in resources(default_synth.cluster, "AWS::EKS::Addon").items()
        if r["Properties"]["AddonName"] == "eks-pod-identity-agent"
    )
    assert association in autoscaler["depends_on"]
    assert agent in autoscaler["depends_on"]


def test_smoke_test_is_attached_only_when_enabled_and_last(with_smoke_test: Synthesis) -> None:
    attached = manifests(with_smoke_test.cluster)
    job = attached["Namespace/gpu-smoke-test"]  # the namespace, then the Job, in one manifest
    assert len(attached) == 4
    assert attached["DaemonSet/nvidia-device-plugin-daemonset"]["logical_id"] in job["depends_on"]
    assert attached["ServiceAccount/cluster-autoscaler"]["logical_id"] in job["depends_on"]


def test_pod_identity_binds_the_role_to_the_autoscaler_service_account(
    default_synth: Synthesis,
) -> None:
    Template.from_json(default_synth.cluster).has_resource_properties(
        "AWS::EKS::PodIdentityAssociation",
        {
            "ClusterName": {"Ref": "ClusterEB0386A7"},
            "Namespace": "kube-system",
            "ServiceAccount": "cluster-autoscaler",
            "RoleArn": {
                "Fn::GetAtt": [Match.string_like_regexp("^ClusterAutoscalerIdentityRole"), "Arn"]
            },
        },
    )


def test_autoscaler_may_resize_only_this_clusters_groups(default_synth: Synthesis) -> None:
    Template.from_json(default_synth.cluster).has_resource_properties(
        "AWS::IAM::Role",
        {
            "Policies": [
                {
                    "PolicyName": "ClusterAutoscaler",
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Action": [
                                    "autoscaling:DescribeAutoScalingGroups",
                                    "autoscaling:DescribeAutoScalingInstances",
                                    "autoscaling:DescribeLaunchConfigurations",
                                    "autoscaling:DescribeScalingActivities",
                                    "ec2:DescribeImages",
                                    "ec2:DescribeInstanceTypes",
                                    "ec2:DescribeLaunchTemplateVersions",
                                    "ec2:GetInstanceTypesFromInstanceRequirements",
                                ],
                                "Effect": "Allow",
                                "Resource": "*",
                            },
                            {
                                "Action": "eks:DescribeNodegroup",
                                "Effect": "Allow",
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:aws:eks:us-west-2:",
                                            {"Ref": "AWS::AccountId"},
                                            ":nodegroup/gpu-spot/*/*",
                                        ],
                                    ]
                                },
                            },
                            {
                                "Action": [
                                    "autoscaling:SetDesiredCapacity",
                                    "autoscaling:TerminateInstanceInAutoScalingGroup",
                                ],
                                "Condition": {"StringEquals": OWNED_BY_THIS_CLUSTER},
                                "Effect": "Allow",
                                "Resource": {
                                    "Fn::Join": [
                                        "",
                                        [
                                            "arn:aws:autoscaling:us-west-2:",
                                            {"Ref": "AWS::AccountId"},
                                            ":autoScalingGroup:*:autoScalingGroupName/*",
                                        ],
                                    ]
                                },
                            },
                        ],
                        "Version": "2012-10-17",
                    },
                }
            ]
        },
    )
