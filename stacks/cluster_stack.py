"""The EKS cluster: control plane, managed add-ons, the spot system group and the GPU groups."""

from __future__ import annotations

import hashlib
import importlib
import json
from typing import Any

from aws_cdk import Acknowledgment, CfnElement, CfnOutput, Stack, Validations
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from charts import AddonCharts
from charts import cluster_autoscaler as autoscaler_chart
from cluster_config import ClusterConfig, GpuNodeGroupConfig
from cluster_config.gpu_sharing import GPU_RESOURCE, advertised_gpus, sharing_labels
from cluster_config.labels import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    SYSTEM_NODE_LABELS,
    gpu_node_labels,
)
from cluster_config.nodegroup_names import GPU_AMI_TYPE, SYSTEM_AMI_TYPE
from cluster_config.versions import KubernetesRelease, kubernetes_release
from constructs_lib.cluster_autoscaler_identity import ClusterAutoscalerIdentity
from constructs_lib.kubernetes_addons import KubernetesAddons
from constructs_lib.managed_node_group import ManagedNodeGroup, NodeTaint
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider

GPU_TAINT = NodeTaint(key=GPU_TAINT_KEY, value=GPU_TAINT_VALUE, effect=GPU_TAINT_EFFECT)
NODE_ROLE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEKS_CNI_Policy",
    "AmazonEC2ContainerRegistryPullOnly",
    "AmazonSSMManagedInstanceCore",  # SSM agent ships in the AMI: shell access without SSH
)


def gpu_construct_id(group: GpuNodeGroupConfig) -> str:
    """``gpu-spot-ng-a`` -> ``GpuSpotNgA``: follows the group's name, never its list position."""
    return "".join(part.capitalize() for part in group.name.split("-"))


class ClusterStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ClusterConfig,
        vpc: ec2.IVpc,
        charts: AddonCharts,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        release = kubernetes_release(config.kubernetes_version)
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=config.cluster_name,
            version=eks.KubernetesVersion.of(config.kubernetes_version),
            vpc=vpc,
            vpc_subnets=[ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)],
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            # With the private endpoint on, aws_eks_v2 runs the kubectl provider in the private
            # subnets, so it reaches the API whatever CIDRs the public endpoint allows.
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=_kubectl_layer(self, release)
            ),
            cluster_logging=[
                eks.ClusterLoggingTypes.API,
                eks.ClusterLoggingTypes.AUDIT,
                eks.ClusterLoggingTypes.AUTHENTICATOR,
                eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
                eks.ClusterLoggingTypes.SCHEDULER,
            ],
            secrets_encryption_key=kms.Key(
                self,
                "SecretsKey",
                enable_key_rotation=True,
                description=f"Envelope encryption of Kubernetes secrets of {config.cluster_name}",
            ),
            endpoint_access=_endpoint_access(config),
            # The networking add-ons are EKS managed add-ons below, not self-managed manifests.
            bootstrap_self_managed_addons=False,
        )
        vpc_cni = eks.Addon(self, "VpcCni", addon_name="vpc-cni", cluster=self.cluster)
        eks.Addon(self, "KubeProxy", addon_name="kube-proxy", cluster=self.cluster)
        self.pod_identity_agent = eks.Addon(
            self, "PodIdentityAgent", addon_name="eks-pod-identity-agent", cluster=self.cluster
        )

        node_role = iam.Role(
            self,
            "NodeRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in NODE_ROLE_POLICIES
            ],
        )
        provider = NodegroupOpsProvider(self, "NodegroupOps", cluster_name=config.cluster_name)

        system = config.system_node_group
        self.system_node_group = ManagedNodeGroup(
            self,
            "SystemNodeGroup",
            name_prefix=system.name,
            instance_types=system.instance_types,
            capacity_type=system.capacity_type,
            ami_type=SYSTEM_AMI_TYPE,
            min_size=system.min_size,
            max_size=system.max_size,
            initial_size=system.min_size,
            availability_zones=config.availability_zones,
            launch_template=NodeLaunchTemplate(
                self, "SystemLaunchTemplate", root_volume_gib=system.root_volume_gib
            ),
            labels=SYSTEM_NODE_LABELS,
            cluster=self.cluster,
            provider=provider,
            kubernetes_version=config.kubernetes_version,
            node_role=node_role,
            release_version=config.node_ami_release_version,
            node_auto_repair=config.node_auto_repair,
        )
        self.system_node_group.node.add_dependency(vpc_cni)
        coredns = eks.Addon(self, "CoreDns", addon_name="coredns", cluster=self.cluster)
        coredns.node.add_dependency(self.system_node_group.nodegroup)

        gpu_template = NodeLaunchTemplate(
            self, "GpuLaunchTemplate", root_volume_gib=config.gpu_root_volume_gib
        )
        self.gpu_node_groups: dict[str, ManagedNodeGroup] = {}
        for group in config.gpu_node_groups:
            node_group = ManagedNodeGroup(
                self,
                gpu_construct_id(group),
                name_prefix=group.name,
                instance_types=group.instance_types,
                capacity_type=group.capacity_type,
                ami_type=GPU_AMI_TYPE,
                min_size=group.min_size,
                max_size=group.max_size,
                initial_size=group.min_size,
                availability_zones=[group.availability_zone],
                launch_template=gpu_template,
                labels={
                    **gpu_node_labels(group.instance_types, group.labels),
                    **sharing_labels(config, group),
                },
                taints=[GPU_TAINT],
                # Physical GPUs x time-slicing replicas: what the device plugin will advertise.
                scale_from_zero_resources={GPU_RESOURCE: str(advertised_gpus(config, group))},
                cluster=self.cluster,
                provider=provider,
                kubernetes_version=config.kubernetes_version,
                node_role=node_role,
                release_version=config.node_ami_release_version,
                node_auto_repair=config.node_auto_repair,
            )
            node_group.node.add_dependency(vpc_cni)
            self.gpu_node_groups[group.name] = node_group

        if config.node_monitoring_agent:
            # Reports node and accelerated-hardware (GPU) faults that node auto repair acts on.
            monitoring = eks.Addon(
                self,
                "NodeMonitoringAgent",
                addon_name="eks-node-monitoring-agent",
                cluster=self.cluster,
            )
            monitoring.node.add_dependency(self.system_node_group.nodegroup)

        identity = ClusterAutoscalerIdentity(
            self,
            "ClusterAutoscalerIdentity",
            cluster=self.cluster,
            cluster_name=config.cluster_name,
            namespace=autoscaler_chart.NAMESPACE,
            service_account=autoscaler_chart.SERVICE_ACCOUNT,
        )
        self.addons = KubernetesAddons(
            self,
            "KubernetesAddons",
            cluster=self.cluster,
            charts=charts,
            autoscaler_identity=[identity, self.pod_identity_agent],
            include_smoke_test=config.gpu_smoke_test,
        )

        for principal_arn in config.admin_principal_arns:
            digest = hashlib.sha256(principal_arn.encode()).hexdigest()[:8]
            self.cluster.grant_cluster_admin(f"Admin{digest}", principal_arn)

        self._acknowledge_required_aws_policies(node_role)
        self._outputs(config)

    def _acknowledge_required_aws_policies(self, node_role: iam.Role) -> None:
        """cdk-nag findings on roles whose shape EKS or aws-cdk-lib dictates, at those roles."""
        managed = "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{}]"
        Validations.of(self.cluster.role).acknowledge(
            Acknowledgment(
                id=managed.format("AmazonEKSClusterPolicy"),
                reason="EKS requires the AWS managed AmazonEKSClusterPolicy on the cluster role.",
            )
        )
        Validations.of(node_role).acknowledge(
            *(
                Acknowledgment(
                    id=managed.format(name),
                    reason="EKS managed nodes need this AWS managed policy (EKS user guide, node "
                    "IAM role); SSM core gives shell access without SSH.",
                )
                for name in NODE_ROLE_POLICIES
            )
        )
        kubectl_provider = self.cluster.kubectl_provider
        assert kubectl_provider is not None
        provider_handler = kubectl_provider.node.find_child("Handler")
        condition = provider_handler.node.find_child("HasEcrPublic")
        handler_function = provider_handler.node.default_child
        assert isinstance(condition, CfnElement) and isinstance(handler_function, CfnElement)
        ecr_public_policy = json.dumps(
            {
                "Fn::If": [
                    self.resolve(condition.logical_id),
                    {
                        "Fn::Join": [
                            "",
                            [
                                "arn:",
                                {"Ref": "AWS::Partition"},
                                ":iam::aws:policy/AmazonElasticContainerRegistryPublicReadOnly",
                            ],
                        ]
                    },
                    {"Ref": "AWS::NoValue"},
                ]
            },
            separators=(",", ":"),
        )
        reason = (
            "Role and runtime of aws-cdk-lib's aws_eks_v2 kubectl provider, which the Cluster API "
            "does not let us set; it only applies this cluster's manifests."
        )
        Validations.of(kubectl_provider).acknowledge(
            *(
                Acknowledgment(id=managed.format(name), reason=reason)
                for name in (
                    "service-role/AWSLambdaBasicExecutionRole",
                    "service-role/AWSLambdaVPCAccessExecutionRole",
                    "AmazonEC2ContainerRegistryReadOnly",
                )
            ),
            Acknowledgment(
                id=f"AwsSolutions::AwsSolutions-IAM4[Policy::{ecr_public_policy}]",
                reason=reason,
            ),
            Acknowledgment(id="AwsSolutions::AwsSolutions-L1", reason=reason),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::<"
                f"{self.resolve(handler_function.logical_id)}.Arn>:*]",
                reason="The kubectl provider's framework may invoke every version of its handler.",
            ),
        )

    def _outputs(self, config: ClusterConfig) -> None:
        CfnOutput(self, "ClusterName", value=self.cluster.cluster_name)
        CfnOutput(
            self,
            "UpdateKubeconfigCommand",
            value=(
                f"aws eks update-kubeconfig --name {config.cluster_name} --region {config.region}"
            ),
        )
        CfnOutput(self, "SystemNodegroupName", value=self.system_node_group.nodegroup_name)
        for group in config.gpu_node_groups:
            CfnOutput(
                self,
                f"{gpu_construct_id(group)}NodegroupName",
                value=self.gpu_node_groups[group.name].nodegroup_name,
            )


def _kubectl_layer(scope: Construct, release: KubernetesRelease) -> lambda_.ILayerVersion:
    layer_class = getattr(
        importlib.import_module(release.kubectl_layer_module), release.kubectl_layer_class
    )
    layer: lambda_.ILayerVersion = layer_class(scope, "KubectlLayer")
    return layer


def _endpoint_access(config: ClusterConfig) -> eks.EndpointAccess:
    cidrs = [str(c) for c in config.endpoint.public_access_cidrs]
    if not cidrs:
        return eks.EndpointAccess.PRIVATE
    base = (
        eks.EndpointAccess.PUBLIC_AND_PRIVATE
        if config.endpoint.private_access
        else eks.EndpointAccess.PUBLIC
    )
    return base.only_from(*cidrs)
