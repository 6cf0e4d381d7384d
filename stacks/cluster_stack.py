"""The EKS cluster: control plane, managed add-ons, the spot system group and the GPU groups."""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Annotations,
    CfnElement,
    CfnOutput,
    RemovalPolicy,
    Stack,
    Validations,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from charts import AddonCharts
from charts import cluster_autoscaler as autoscaler_chart
from cluster_config import ClusterConfig, GpuNodeGroupConfig
from cluster_config.catalog import GPU_INSTANCE_TYPES
from cluster_config.gpu_sharing import GPU_RESOURCE, advertised_gpus, sharing_labels
from cluster_config.labels import (
    GPU_TAINT_EFFECT,
    GPU_TAINT_KEY,
    GPU_TAINT_VALUE,
    SYSTEM_NODE_LABELS,
    gpu_node_labels,
)
from cluster_config.nodeadm import cpu_quantity, ephemeral_storage_quantity, memory_quantity
from cluster_config.nodegroup_names import GPU_AMI_TYPE, SYSTEM_AMI_TYPE
from cluster_config.versions import KubernetesRelease, kubernetes_release
from constructs_lib.cluster_autoscaler_identity import ClusterAutoscalerIdentity
from constructs_lib.kubectl_provider_role import KubectlProviderRole
from constructs_lib.kubernetes_addons import KubernetesAddons
from constructs_lib.managed_node_group import ManagedNodeGroup, NodeTaint
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from constructs_lib.pod_identity_role import PodIdentityRole

GPU_TAINT = NodeTaint(key=GPU_TAINT_KEY, value=GPU_TAINT_VALUE, effect=GPU_TAINT_EFFECT)
# AmazonEKS_CNI_Policy is on the VPC CNI's own role (EKS Best Practices Guide, Security:
# "Update the aws-node daemonset to use IRSA"); Session Manager gets only its own actions.
NODE_ROLE_POLICIES = (
    "AmazonEKSWorkerNodePolicy",
    "AmazonEC2ContainerRegistryPullOnly",
)
# AWS Systems Manager user guide, "Create a custom IAM role for Session Manager" (policy without
# S3 or CloudWatch Logs logging): what the SSM agent in the AMI needs for shell access without
# SSH. AmazonSSMManagedInstanceCore would also allow ssm:GetParameter(s) on every parameter.
SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)
VPC_CNI_NAMESPACE = "kube-system"
VPC_CNI_SERVICE_ACCOUNT = "aws-node"


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
        # The name EKS writes to (EKS user guide, "Send control plane logs to CloudWatch Logs");
        # created first, so EKS does not create it without retention outside the template.
        control_plane_logs = logs.CfnLogGroup(
            self,
            "ControlPlaneLogs",
            log_group_name=f"/aws/eks/{config.cluster_name}/cluster",
            retention_in_days=config.control_plane_log_retention_days,
        )
        control_plane_logs.apply_removal_policy(RemovalPolicy.DESTROY)
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
                kubectl_layer=_kubectl_layer(self, release),
                # Immutable: aws-cdk-lib cannot add its ECR read policies (kubectl_provider_role).
                role=KubectlProviderRole(
                    self,
                    "KubectlProviderRole",
                    cluster_name=config.cluster_name,
                    in_vpc=config.endpoint.private_access,
                ).without_policy_updates(),
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
            # No hidden admin entry for the CloudFormation role (create-only: set before deploy).
            bootstrap_cluster_creator_admin_permissions=False,
        )
        cfn_cluster = self.cluster.node.default_child
        assert isinstance(cfn_cluster, eks.CfnCluster)
        cfn_cluster.add_resource_dependency(control_plane_logs)  # the cluster resource alone
        if any(c.prefixlen == 0 for c in config.endpoint.public_access_cidrs):
            Annotations.of(self.cluster).add_warning_v2(
                "gpu-spot:public-endpoint-open",
                "endpoint.public_access_cidrs allows the whole internet to reach the Kubernetes "
                "API endpoint; set it to your own CIDR (README: Deploying).",
            )
        self.pod_identity_agent = eks.Addon(
            self, "PodIdentityAgent", addon_name="eks-pod-identity-agent", cluster=self.cluster
        )
        vpc_cni = self._vpc_cni()
        eks.Addon(self, "KubeProxy", addon_name="kube-proxy", cluster=self.cluster)

        node_role = iam.Role(
            self,
            "NodeRole",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in NODE_ROLE_POLICIES
            ],
            inline_policies={
                "SessionManager": iam.PolicyDocument(
                    statements=[
                        iam.PolicyStatement(actions=list(SESSION_MANAGER_ACTIONS), resources=["*"])
                    ]
                )
            },
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
                scale_from_zero_resources={
                    # Physical GPUs x time-slicing replicas: what the device plugin will advertise.
                    GPU_RESOURCE: str(advertised_gpus(config, group)),
                    # What the kubelet will offer, not the raw disk (cluster_config/nodeadm.py).
                    "ephemeral-storage": ephemeral_storage_quantity(config.gpu_root_volume_gib),
                    # Nor the instance's CPUs and memory: less nodeadm's reservations, so a pod
                    # that scales a group up from zero also fits the node that joins.
                    "cpu": cpu_quantity(GPU_INSTANCE_TYPES[group.instance_types[0]].vcpus),
                    "memory": memory_quantity(
                        GPU_INSTANCE_TYPES[group.instance_types[0]].memory_mib,
                        tuple(group.instance_types),
                    ),
                },
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

    def _vpc_cni(self) -> eks.Addon:
        """The vpc-cni add-on, its ``aws-node`` service account on its own Pod Identity role."""
        role = PodIdentityRole(
            self,
            "VpcCniRole",
            cluster=self.cluster,
            namespace=VPC_CNI_NAMESPACE,
            service_account=VPC_CNI_SERVICE_ACCOUNT,
            description="VPC CNI (aws-node) of EKS cluster (Pod Identity)",
            managed_policies=[
                iam.ManagedPolicy.from_aws_managed_policy_name("AmazonEKS_CNI_Policy")
            ],
        )
        Validations.of(role).acknowledge(
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/"
                "AmazonEKS_CNI_Policy]",
                reason="The policy EKS documents for the VPC CNI; on its own role, bound to "
                "kube-system/aws-node of this cluster, instead of on the node role.",
            )
        )
        addon = eks.Addon(self, "VpcCni", addon_name="vpc-cni", cluster=self.cluster)
        cfn_addon = addon.node.default_child
        assert isinstance(cfn_addon, eks.CfnAddon)
        # aws_eks_v2.Addon has no prop for it; AWS::EKS::Addon PodIdentityAssociations does.
        cfn_addon.add_property_override(
            "PodIdentityAssociations",
            [{"ServiceAccount": VPC_CNI_SERVICE_ACCOUNT, "RoleArn": role.role_arn}],
        )
        addon.node.add_dependency(self.pod_identity_agent)
        return addon

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
                    "IAM role).",
                )
                for name in NODE_ROLE_POLICIES
            ),
            Acknowledgment(
                id="AwsSolutions::AwsSolutions-IAM5[Resource::*]",
                reason="Session Manager's ssmmessages actions take no resource, and the agent "
                "registers the instance it runs on, whose ID is unknown before launch.",
            ),
        )
        kubectl_provider = self.cluster.kubectl_provider
        assert kubectl_provider is not None
        # The provider's condition for the ECR Public policy it could not attach: unused.
        self.node.try_remove_child("HasEcrPublic")
        provider_handler = kubectl_provider.node.find_child("Handler")
        handler_function = provider_handler.node.default_child
        assert isinstance(handler_function, CfnElement)
        reason = (
            "Runtime and Provider framework of aws-cdk-lib's aws_eks_v2 kubectl provider, which "
            "the Cluster API does not let us set; it only applies this cluster's manifests. Its "
            "handler runs on KubectlProviderRole (no ECR read)."
        )
        Validations.of(kubectl_provider).acknowledge(
            *(
                Acknowledgment(id=managed.format(name), reason=reason)
                for name in (
                    "service-role/AWSLambdaBasicExecutionRole",
                    "service-role/AWSLambdaVPCAccessExecutionRole",
                )
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
    if not config.endpoint.private_access:
        # The config allows this only open to the world; aws-cdk-lib refuses only_from on PUBLIC.
        return eks.EndpointAccess.PUBLIC
    return eks.EndpointAccess.PUBLIC_AND_PRIVATE.only_from(*cidrs)
