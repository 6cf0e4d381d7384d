"""What the default synth deploys: one behaviour per test, on the synthesized templates."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from cluster_config import load_config
from tests.support import (
    ROOT,
    config_with,
    default_data,
    nodegroups_by_name,
    resources,
    synthesize,
)
from verify.synth import Synthesis

GPU_GROUPS = ("gpu-spot-ng-a", "gpu-spot-ng-b", "gpu-spot-ng-c")
TEMPLATE_TAG = "k8s.io/cluster-autoscaler/node-template"


@pytest.fixture(scope="module")
def template(default_synth: Synthesis) -> Template:
    return Template.from_json(default_synth.cluster)


@pytest.fixture(scope="module")
def nodegroups(default_synth: Synthesis) -> dict[str, dict[str, Any]]:
    return nodegroups_by_name(default_synth.cluster)


def subnet_zones(synth: Synthesis, subnet_refs: list[dict[str, Any]]) -> list[str]:
    """AZs of the network-stack subnets a cluster-stack property imports."""
    exports = {
        out["Export"]["Name"]: out["Value"]["Ref"] for out in synth.network["Outputs"].values()
    }
    subnets = synth.network["Resources"]
    return [
        subnets[exports[ref["Fn::ImportValue"]]]["Properties"]["AvailabilityZone"]
        for ref in subnet_refs
    ]


def test_cluster_runs_the_configured_kubernetes_version_on_managed_node_groups(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {"Name": "gpu-spot", "Version": "1.36", "ComputeConfig": {"Enabled": False}},
    )


def test_control_plane_logs_every_log_type(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "Logging": {
                "ClusterLogging": {
                    "EnabledTypes": [
                        {"Type": t}
                        for t in ("api", "audit", "authenticator", "controllerManager", "scheduler")
                    ]
                }
            }
        },
    )


def test_secrets_are_envelope_encrypted_with_a_rotating_kms_key(template: Template) -> None:
    template.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "EncryptionConfig": [
                {
                    "Provider": {
                        "KeyArn": {"Fn::GetAtt": [Match.string_like_regexp("^SecretsKey"), "Arn"]}
                    },
                    "Resources": ["secrets"],
                }
            ]
        },
    )


def test_endpoint_is_private_by_default(template: Template) -> None:
    template.has_resource_properties(
        "AWS::EKS::Cluster",
        {
            "ResourcesVpcConfig": Match.object_like(
                {
                    "EndpointPrivateAccess": True,
                    "EndpointPublicAccess": False,
                    "PublicAccessCidrs": Match.absent(),
                }
            )
        },
    )


def test_kubectl_provider_layer_matches_the_kubernetes_minor(template: Template) -> None:
    template.has_resource_properties(
        "AWS::Lambda::LayerVersion",
        {"Description": Match.string_like_regexp(r"^/opt/kubectl/kubectl 1\.36\.")},
    )


def test_cluster_networking_and_identity_are_managed_add_ons(default_synth: Synthesis) -> None:
    addons = {
        r["Properties"]["AddonName"]
        for r in resources(default_synth.cluster, "AWS::EKS::Addon").values()
    }
    assert addons == {
        "vpc-cni",
        "kube-proxy",
        "coredns",
        "eks-pod-identity-agent",
        "eks-node-monitoring-agent",
        "aws-ebs-csi-driver",
        "metrics-server",
    }
    template = default_synth.cluster
    assert (
        template["Resources"]["ClusterEB0386A7"]["Properties"]["BootstrapSelfManagedAddons"]
        is False
    )


def test_coredns_waits_for_the_system_nodes(default_synth: Synthesis) -> None:
    coredns = next(
        r
        for r in resources(default_synth.cluster, "AWS::EKS::Addon").values()
        if r["Properties"]["AddonName"] == "coredns"
    )
    assert coredns["DependsOn"] == ["SystemNodeGroupNodegroupD3A5F3AD"]


def test_system_group_is_spot_al2023_across_all_zones(
    default_synth: Synthesis, nodegroups: dict[str, dict[str, Any]]
) -> None:
    system = nodegroups["spot-ng"]
    assert system["CapacityType"] == "SPOT"
    assert system["AmiType"] == "AL2023_x86_64_STANDARD"
    assert (system["ScalingConfig"]["MinSize"], system["ScalingConfig"]["MaxSize"]) == (2, 20)
    assert system["Labels"] == {"pool": "system"}
    assert system["Taints"] == []
    assert subnet_zones(default_synth, system["Subnets"]) == [
        "us-west-2a",
        "us-west-2b",
        "us-west-2c",
    ]


def test_gpu_groups_use_the_al2023_nvidia_ami_on_spot_from_zero(
    nodegroups: dict[str, dict[str, Any]],
) -> None:
    for name in GPU_GROUPS:
        group = nodegroups[name]
        assert group["AmiType"] == "AL2023_x86_64_NVIDIA", name
        assert group["CapacityType"] == "SPOT", name
        assert group["ScalingConfig"]["MinSize"] == 0, name
        assert group["InstanceTypes"] == ["g5.xlarge", "g6.xlarge"], name


def test_each_gpu_group_lives_in_one_subnet_of_its_own_zone(
    default_synth: Synthesis, nodegroups: dict[str, dict[str, Any]]
) -> None:
    zones = {name: subnet_zones(default_synth, nodegroups[name]["Subnets"]) for name in GPU_GROUPS}
    assert zones == {
        "gpu-spot-ng-a": ["us-west-2a"],
        "gpu-spot-ng-b": ["us-west-2b"],
        "gpu-spot-ng-c": ["us-west-2c"],
    }


def test_gpu_groups_carry_the_seed_taint(nodegroups: dict[str, dict[str, Any]]) -> None:
    for name in GPU_GROUPS:
        assert nodegroups[name]["Taints"] == [
            {"Effect": "NO_SCHEDULE", "Key": "nvidia.com/gpu", "Value": "true"}
        ]


def test_gpu_groups_are_labelled_for_workloads_and_the_autoscaler(
    nodegroups: dict[str, dict[str, Any]],
) -> None:
    for name in GPU_GROUPS:
        assert nodegroups[name]["Labels"] == {
            "gpu-memory-gb": "24",  # g5 (A10G) and g6 (L4): 24 GB per GPU
            "pool": "gpu-spot-ng",
            "k8s.amazonaws.com/accelerator": "nvidia",
            "nvidia.com/gpu.present": "true",
        }


def test_gpu_groups_are_similar_for_balancing(nodegroups: dict[str, dict[str, Any]]) -> None:
    """No label differs between them, and one launch template keeps sourceLaunchTemplate* equal."""
    gpu = [nodegroups[name] for name in GPU_GROUPS]
    assert len({str(g["Labels"]) for g in gpu}) == 1
    assert len({str(g["LaunchTemplate"]) for g in gpu}) == 1
    assert len({str(g["InstanceTypes"]) for g in gpu}) == 1


def test_scale_from_zero_tags_reach_each_gpu_groups_asg(default_synth: Synthesis) -> None:
    tagged = {
        r["Properties"]["NodegroupName"]["Fn::GetAtt"][0]: r["Properties"]["Tags"]
        for r in resources(default_synth.cluster, "Custom::AsgNodeTemplateTags").values()
    }
    groups = {
        logical_id: r["Properties"]["NodegroupName"]
        for logical_id, r in resources(default_synth.cluster, "AWS::EKS::Nodegroup").items()
    }
    assert sorted(groups[k].rsplit("-", 1)[0] for k in tagged) == list(GPU_GROUPS)
    for tags in tagged.values():
        assert tags == {
            f"{TEMPLATE_TAG}/label/gpu-memory-gb": "24",
            f"{TEMPLATE_TAG}/label/k8s.amazonaws.com/accelerator": "nvidia",
            f"{TEMPLATE_TAG}/label/nvidia.com/gpu.present": "true",
            f"{TEMPLATE_TAG}/label/pool": "gpu-spot-ng",
            f"{TEMPLATE_TAG}/taint/nvidia.com/gpu": "true:NoSchedule",
            f"{TEMPLATE_TAG}/resources/nvidia.com/gpu": "1",
            f"{TEMPLATE_TAG}/resources/ephemeral-storage": "90675Mi",  # 100 GiB root volume
            # g5.xlarge less nodeadm's kube-reserved (cpu 80m; memory 11 x 58 pods + 255 MiB),
            # the eviction threshold and 6% of its 16 GiB for the kernel (aws_rules/nodeadm.py)
            f"{TEMPLATE_TAG}/resources/cpu": "3920m",
            f"{TEMPLATE_TAG}/resources/memory": "14407Mi",
        }


@pytest.fixture(scope="module")
def multi_gpu_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    pools = default_data()["gpu_pools"]
    pools[0]["instance_types"] = ["g6e.12xlarge"]  # 48 vCPUs, 384 GiB, 4 L40S of 48 GB
    return synthesize(config_with({"gpu_pools": pools}), tmp_path_factory.mktemp("multi"))


def test_a_multi_gpu_group_is_tagged_and_labelled_from_the_instance_data(
    multi_gpu_synth: Synthesis,
) -> None:
    tag_sets = [
        r["Properties"]["Tags"]
        for r in resources(multi_gpu_synth.cluster, "Custom::AsgNodeTemplateTags").values()
    ]
    assert len(tag_sets) == 3
    for tags in tag_sets:
        assert tags[f"{TEMPLATE_TAG}/resources/nvidia.com/gpu"] == "4"
        assert tags[f"{TEMPLATE_TAG}/label/gpu-memory-gb"] == "48"
        assert tags[f"{TEMPLATE_TAG}/label/k8s.amazonaws.com/accelerator"] == "nvidia-l40s"
    for group in nodegroups_by_name(multi_gpu_synth.cluster).values():
        if group["Labels"]["pool"] == "gpu-spot-ng":
            assert group["Labels"]["gpu-memory-gb"] == "48"


def test_asg_tagging_role_is_least_privilege(template: Template) -> None:
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyName": Match.string_like_regexp("^NodegroupOpsRole"),
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                        "Effect": "Allow",
                        "Resource": {
                            "Fn::GetAtt": [Match.string_like_regexp("^NodegroupOpsLogs"), "Arn"]
                        },
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
                        "Action": ["autoscaling:CreateOrUpdateTags", "autoscaling:DeleteTags"],
                        "Condition": Match.exact(
                            {
                                "StringEquals": {"aws:ResourceTag/eks:cluster-name": "gpu-spot"},
                                "ForAllValues:StringLike": {"aws:TagKeys": [f"{TEMPLATE_TAG}/*"]},
                            }
                        ),
                        "Effect": "Allow",
                        "Resource": {
                            "Fn::Join": [
                                "",
                                [
                                    "arn:aws:autoscaling:us-west-2:",
                                    {"Ref": "AWS::AccountId"},
                                    ":autoScalingGroup:*:autoScalingGroupName/eks-*",
                                ],
                            ]
                        },
                    },
                ],
                "Version": "2012-10-17",
            },
        },
    )


def test_every_node_requires_imdsv2(
    default_synth: Synthesis, nodegroups: dict[str, dict[str, Any]]
) -> None:
    templates = resources(default_synth.cluster, "AWS::EC2::LaunchTemplate")
    for template in templates.values():
        metadata = template["Properties"]["LaunchTemplateData"]["MetadataOptions"]
        assert metadata == {"HttpTokens": "required", "HttpPutResponseHopLimit": 1}
    for name, group in nodegroups.items():
        assert group["LaunchTemplate"]["Id"]["Ref"] in templates, name


def test_root_volumes_are_encrypted_gp3(default_synth: Synthesis) -> None:
    sizes = []
    for template in resources(default_synth.cluster, "AWS::EC2::LaunchTemplate").values():
        (device,) = template["Properties"]["LaunchTemplateData"]["BlockDeviceMappings"]
        assert device["Ebs"]["Encrypted"] is True
        assert device["Ebs"]["VolumeType"] == "gp3"
        sizes.append(device["Ebs"]["VolumeSize"])
    assert sorted(sizes) == [50, 100]


def test_node_role_has_worker_and_registry_policies_and_session_manager_only(
    template: Template,
) -> None:
    template.has_resource_properties(
        "AWS::IAM::Role",
        {
            "AssumeRolePolicyDocument": Match.object_like(
                {"Statement": [Match.object_like({"Principal": {"Service": "ec2.amazonaws.com"}})]}
            ),
            "ManagedPolicyArns": [
                {"Fn::Join": ["", ["arn:", {"Ref": "AWS::Partition"}, f":iam::aws:policy/{name}"]]}
                for name in ("AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryPullOnly")
            ],
            "Policies": [
                {
                    "PolicyName": "SessionManager",
                    "PolicyDocument": {
                        "Statement": [
                            {
                                "Action": [
                                    "ssm:UpdateInstanceInformation",
                                    "ssmmessages:CreateControlChannel",
                                    "ssmmessages:CreateDataChannel",
                                    "ssmmessages:OpenControlChannel",
                                    "ssmmessages:OpenDataChannel",
                                ],
                                "Effect": "Allow",
                                "Resource": "*",
                            }
                        ],
                        "Version": "2012-10-17",
                    },
                }
            ],
        },
    )


def test_desired_size_comes_from_the_deploy_time_guard(
    default_synth: Synthesis, nodegroups: dict[str, dict[str, Any]]
) -> None:
    guards = resources(default_synth.cluster, "Custom::NodegroupDesiredSize")
    for name, group in nodegroups.items():
        logical_id, attribute = group["ScalingConfig"]["DesiredSize"]["Fn::GetAtt"]
        assert attribute == "DesiredSize", name
        assert guards[logical_id]["Properties"]["NodegroupName"] == group["NodegroupName"]


def test_node_groups_follow_the_cluster_version(nodegroups: dict[str, dict[str, Any]]) -> None:
    assert {g["Version"] for g in nodegroups.values()} == {"1.36"}


def test_outputs_name_the_cluster_kubeconfig_command_and_node_groups(template: Template) -> None:
    template.has_output("ClusterName", {"Value": {"Ref": "ClusterEB0386A7"}})
    template.has_output(
        "UpdateKubeconfigCommand",
        {"Value": "aws eks update-kubeconfig --name gpu-spot --region us-west-2"},
    )
    for output, logical_id in {
        "SystemNodegroupName": "SystemNodeGroupNodegroupD3A5F3AD",
        "GpuSpotNgANodegroupName": "GpuSpotNgANodegroupC50C1657",
        "GpuSpotNgBNodegroupName": "GpuSpotNgBNodegroup1773B66D",
        "GpuSpotNgCNodegroupName": "GpuSpotNgCNodegroupE0DEF351",
    }.items():
        template.has_output(output, {"Value": {"Fn::GetAtt": [logical_id, "NodegroupName"]}})


def test_kubectl_provider_runs_in_the_private_subnets(default_synth: Synthesis) -> None:
    handler = next(
        r
        for k, r in resources(default_synth.cluster, "AWS::Lambda::Function").items()
        if k.startswith("ClusterKubectlProviderHandler")
    )
    subnet_ids = handler["Properties"]["VpcConfig"]["SubnetIds"]
    assert subnet_zones(default_synth, subnet_ids) == ["us-west-2a", "us-west-2b", "us-west-2c"]
    private = {
        k
        for k, r in default_synth.network["Resources"].items()
        if r["Type"] == "AWS::EC2::Subnet" and "Private" in k
    }
    outputs = default_synth.network["Outputs"].values()
    exports = {out["Export"]["Name"]: out["Value"]["Ref"] for out in outputs}
    assert {exports[ref["Fn::ImportValue"]] for ref in subnet_ids} == private


# --- two GPU pools (examples/inference-and-training.yaml) ------------------------------------


@pytest.fixture(scope="module")
def pools_synth(tmp_path_factory: pytest.TempPathFactory) -> Synthesis:
    config = load_config(default_data(), str(ROOT / "examples" / "inference-and-training.yaml"))
    return synthesize(config, tmp_path_factory.mktemp("pools"))


@pytest.fixture(scope="module")
def pools_template(pools_synth: Synthesis) -> Template:
    return Template.from_json(pools_synth.cluster)


def test_each_pool_zone_gets_a_group_and_the_fallback_its_own(pools_template: Template) -> None:
    pools_template.resource_count_is("AWS::EKS::Nodegroup", 1 + 3 + 2 + 2)
    for name, capacity in (("inference-c", "SPOT"), ("training-od-b", "ON_DEMAND")):
        pools_template.has_resource_properties(
            "AWS::EKS::Nodegroup",
            {
                "NodegroupName": Match.string_like_regexp(f"^{name}-[0-9a-f]{{6}}$"),
                "CapacityType": capacity,
            },
        )


def test_a_pools_groups_carry_its_pool_label_and_shape_labels(pools_template: Template) -> None:
    pools_template.has_resource_properties(
        "AWS::EKS::Nodegroup",
        {
            "NodegroupName": Match.string_like_regexp("^training-od-a-"),
            "Labels": {
                "pool": "training",
                "k8s.amazonaws.com/accelerator": "nvidia-l40s",
                "nvidia.com/gpu.present": "true",
                "gpu-memory-gb": "48",
            },
        },
    )
    pools_template.has_resource_properties(
        "AWS::EKS::Nodegroup",
        {
            "NodegroupName": Match.string_like_regexp("^inference-a-"),
            "Labels": Match.object_like({"pool": "inference", "gpu-memory-gb": "24"}),
        },
    )


def test_each_pool_advertises_its_own_gpus_from_zero(pools_synth: Synthesis) -> None:
    tags = {
        r["Properties"]["Tags"][f"{TEMPLATE_TAG}/label/pool"]: r["Properties"]["Tags"]
        for r in resources(pools_synth.cluster, "Custom::AsgNodeTemplateTags").values()
    }
    assert tags["inference"][f"{TEMPLATE_TAG}/resources/nvidia.com/gpu"] == "1"
    assert tags["training"][f"{TEMPLATE_TAG}/resources/nvidia.com/gpu"] == "4"


def test_every_pool_group_has_an_output_named_after_its_construct(pools_template: Template) -> None:
    outputs = pools_template.find_outputs("*")
    assert {k for k in outputs if k.endswith("NodegroupName")} == {
        "SystemNodegroupName",
        *(f"{c}NodegroupName" for c in ("InferenceA", "InferenceB", "InferenceC")),
        *(f"{c}NodegroupName" for c in ("TrainingA", "TrainingB", "TrainingOdA", "TrainingOdB")),
    }


# --- aws-cdk-lib internals the stack works around (stacks/cluster_stack.py) ------------------


def test_aws_cdk_lib_still_adds_the_ecr_public_condition_the_stack_removes() -> None:
    """Guard for an aws-cdk-lib upgrade: ClusterStack removes the kubectl provider's unused
    condition by its construct ID, which aws-cdk-lib does not document. If this fails, aws-cdk-lib
    changed it: the removal in ClusterStack no longer does anything; find the condition's new
    shape (or drop the workaround if it is gone) before the next synth flags it."""
    import aws_cdk as cdk
    from aws_cdk import aws_eks_v2 as eks
    from aws_cdk import aws_iam as iam
    from aws_cdk.lambda_layer_kubectl_v36 import KubectlV36Layer

    from stacks.cluster_stack import UNUSED_ECR_PUBLIC_CONDITION

    stack = cdk.Stack(cdk.App())
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    eks.Cluster(
        stack,
        "Cluster",
        version=eks.KubernetesVersion.V1_36,
        default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
        default_capacity=0,
        kubectl_provider_options=eks.KubectlProviderOptions(
            kubectl_layer=KubectlV36Layer(stack, "Layer"), role=role.without_policy_updates()
        ),
    )
    assert isinstance(stack.node.try_find_child(UNUSED_ECR_PUBLIC_CONDITION), cdk.CfnCondition)
