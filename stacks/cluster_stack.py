"""The EKS cluster: control plane, managed add-ons, the spot system group and the GPU groups."""

from __future__ import annotations

import hashlib
import importlib
from typing import Any

from aws_cdk import (
    Acknowledgment,
    Annotations,
    CfnOutput,
    PropertyInjectors,
    Stack,
    Validations,
)
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_eks_v2 as eks
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

from aws_rules.nodeadm import node_config
from charts import AddonCharts
from charts import cluster_autoscaler as autoscaler_chart
from cluster_config import ClusterConfig
from cluster_config.labels import SYSTEM_NODE_LABELS
from cluster_config.node_groups import NodeGroupSpec, NodeGroupSpecs
from cluster_config.public_cidrs import OPEN_TO_INTERNET_RULE, opens_to_internet
from cluster_config.versions import KubernetesRelease, kubernetes_release
from constructs_lib.cluster_autoscaler_identity import ClusterAutoscalerIdentity
from constructs_lib.cluster_role_trust import confine_cluster_role
from constructs_lib.control_plane_log_group import ControlPlaneLogGroup
from constructs_lib.efa_security_group import EfaSecurityGroup
from constructs_lib.guarded_key import GuardedKey
from constructs_lib.kubectl_provider_role import KubectlProviderRole
from constructs_lib.kubernetes_addons import KubernetesAddons
from constructs_lib.managed_addons import ManagedAddons
from constructs_lib.managed_node_group import ManagedNodeGroup
from constructs_lib.node_launch_template import NodeLaunchTemplate
from constructs_lib.node_role import NodeRole
from constructs_lib.nodegroup_ops_provider import NodegroupOpsProvider
from constructs_lib.pod_security_labels import PodSecurityLabels
from constructs_lib.provider_framework_role import OwnFrameworkRoles
from constructs_lib.vpc_cni import VpcCni, VpcCniRole
from stacks.node_group_props import node_group_props


class ClusterStack(Stack):
    """The cluster and its node groups, as ``node_groups`` (the specs of ``config``) describe
    them; the add-on charts are attached as manifests."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: ClusterConfig,
        node_groups: NodeGroupSpecs,
        vpc: ec2.IVpc,
        charts: AddonCharts,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        # The kubectl provider's framework Lambda, which aws_eks_v2 builds without a role prop,
        # logs to its own group with its own role (constructs_lib/provider_framework_role.py).
        PropertyInjectors.of(self).add(OwnFrameworkRoles())
        # In this order: construct order is the templates' resource order.
        kubectl_role = self._control_plane(config, vpc)
        vpc_cni = self._networking_addons()
        self._node_groups(config, node_groups, vpc, vpc_cni)
        self._addons(config, charts)
        for principal_arn in config.admin_principal_arns:
            digest = hashlib.sha256(principal_arn.encode()).hexdigest()[:8]
            self.cluster.grant_cluster_admin(f"Admin{digest}", principal_arn)
        self._acknowledge_required_aws_policies(kubectl_role)
        self._outputs(config)

    def _control_plane(self, config: ClusterConfig, vpc: ec2.IVpc) -> KubectlProviderRole:
        """The cluster (``self.cluster``), its log group, its kubectl provider's role (returned)
        and the notes synth prints about its endpoint."""
        release = kubernetes_release(config.kubernetes_version)
        control_plane_logs = ControlPlaneLogGroup(
            self,
            "ControlPlaneLogs",
            cluster_name=config.cluster_name,
            retention_days=config.control_plane_log_retention_days,
            retain_on_delete=config.control_plane_log_retain_on_delete,
            key_deletion_principal_arns=config.key_deletion_principal_arns,
        )
        kubectl_role = KubectlProviderRole(
            self,
            "KubectlProviderRole",
            cluster_name=config.cluster_name,
            in_vpc=config.endpoint.private_access,
        )
        self.cluster = eks.Cluster(
            self,
            "Cluster",
            cluster_name=config.cluster_name,
            version=eks.KubernetesVersion.of(config.kubernetes_version),
            vpc=vpc,
            # Only the control plane's zones: EKS cannot move it to zones it was not created in,
            # while node groups may use every zone (docs/configuration.md, "Zones").
            vpc_subnets=[
                ec2.SubnetSelection(
                    subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS,
                    availability_zones=list(config.control_plane_zones),
                )
            ],
            default_capacity_type=eks.DefaultCapacityType.NODEGROUP,
            default_capacity=0,
            # With the private endpoint on, aws_eks_v2 runs the kubectl provider in the private
            # subnets, so it reaches the API whatever CIDRs the public endpoint allows.
            kubectl_provider_options=eks.KubectlProviderOptions(
                kubectl_layer=_kubectl_layer(self, release),
                # Immutable: aws-cdk-lib cannot add its ECR read policies (kubectl_provider_role).
                role=kubectl_role.without_policy_updates(),
            ),
            cluster_logging=[
                eks.ClusterLoggingTypes.API,
                eks.ClusterLoggingTypes.AUDIT,
                eks.ClusterLoggingTypes.AUTHENTICATOR,
                eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
                eks.ClusterLoggingTypes.SCHEDULER,
            ],
            # Same construct ID as before GuardedKey: EncryptionConfig is create-only, so a new
            # key would replace the cluster.
            secrets_encryption_key=GuardedKey(
                self,
                "SecretsKey",
                alias=f"alias/{config.cluster_name}-secrets",
                description=f"Envelope encryption of Kubernetes secrets of {config.cluster_name}",
                deletion_principal_arns=config.key_deletion_principal_arns,
            ),
            endpoint_access=_endpoint_access(config),
            # The networking add-ons are EKS managed add-ons below, not self-managed manifests.
            bootstrap_self_managed_addons=False,
            # No hidden admin entry for the CloudFormation role (create-only: set before deploy).
            bootstrap_cluster_creator_admin_permissions=False,
        )
        confine_cluster_role(self.cluster, cluster_name=config.cluster_name)
        cfn_cluster = self.cluster.node.default_child
        assert isinstance(cfn_cluster, eks.CfnCluster)
        # The cluster resource alone waits for its log group.
        cfn_cluster.add_resource_dependency(control_plane_logs.log_group)
        self._endpoint_notices(config)
        return kubectl_role

    def _endpoint_notices(self, config: ClusterConfig) -> None:
        """A warning for an endpoint open to the internet; a note when nobody could use kubectl."""
        if opens_to_internet(config.endpoint.public_access_cidrs):
            Annotations.of(self.cluster).add_warning_v2(
                "gpu-spot:public-endpoint-open",
                "endpoint.public_access_cidrs allows the whole internet (or most of it) to reach "
                f"the Kubernetes API endpoint ({OPEN_TO_INTERNET_RULE}); set it to your own CIDR "
                "(README: Deploying).",
            )
        if not config.endpoint.public_access_cidrs and not config.admin_principal_arns:
            Annotations.of(self.cluster).add_info(
                "The Kubernetes API endpoint is private (endpoint.public_access_cidrs: []) and "
                "admin_principal_arns is empty: after deploy nobody can use kubectl until you add "
                "your IAM role to admin_principal_arns and reach the endpoint from inside the "
                "VPC (CloudShell VPC environment, SSM port forwarding, a bastion) or add your "
                "CIDR to endpoint.public_access_cidrs (README: Deploying)."
            )

    def _networking_addons(self) -> VpcCni:
        """EKS Pod Identity's agent (``self.pod_identity_agent``), the VPC CNI (returned: the
        node groups wait for it) and kube-proxy, as EKS managed add-ons."""
        self.pod_identity_agent = eks.Addon(
            self, "PodIdentityAgent", addon_name="eks-pod-identity-agent", cluster=self.cluster
        )
        vpc_cni = VpcCni(
            self,
            "VpcCni",
            cluster=self.cluster,
            role=VpcCniRole(self, "VpcCniRole", cluster=self.cluster),
            pod_identity_agent=self.pod_identity_agent,
        )
        eks.Addon(self, "KubeProxy", addon_name="kube-proxy", cluster=self.cluster)
        return vpc_cni

    def _node_groups(
        self, config: ClusterConfig, node_groups: NodeGroupSpecs, vpc: ec2.IVpc, vpc_cni: VpcCni
    ) -> None:
        """The node roles, the node groups' custom-resource provider, the launch templates (with
        EFA security and placement groups), the system group (``self.system_node_group``), CoreDNS
        on it, and the GPU groups (``self.gpu_node_groups``)."""
        # One role per ID the specs name (today one, "NodeRole"): the ID is part of each
        # group's name, so moving a group to another role renames (and so can replace) it.
        node_roles = {
            role_id: NodeRole(self, role_id)
            for role_id in dict.fromkeys(spec.node_role_id for spec in node_groups.all)
        }
        provider = NodegroupOpsProvider(self, "NodegroupOps", cluster_name=config.cluster_name)
        templates = self._launch_templates(config, node_groups, vpc)

        def node_group(spec: NodeGroupSpec) -> ManagedNodeGroup:
            group = ManagedNodeGroup(
                self,
                spec.construct_id,
                props=node_group_props(spec),
                cluster=self.cluster,
                provider=provider,
                node_role=node_roles[spec.node_role_id],
                launch_template=templates[spec.launch.construct_id],
            )
            group.node.add_dependency(vpc_cni)
            return group

        self.system_node_group = node_group(node_groups.system)
        coredns = eks.Addon(self, "CoreDns", addon_name="coredns", cluster=self.cluster)
        coredns.node.add_dependency(self.system_node_group.nodegroup)
        self.gpu_node_groups = {spec.name: node_group(spec) for spec in node_groups.gpu}

    def _launch_templates(
        self, config: ClusterConfig, node_groups: NodeGroupSpecs, vpc: ec2.IVpc
    ) -> dict[str, NodeLaunchTemplate]:
        """Each launch template the groups use, by construct ID, with the EFA pools' security
        and placement groups."""
        # EFA pools: a security group per pool, open to itself (constructs_lib/
        # efa_security_group.py), and a cluster placement group per group.
        efa_groups = {
            sg_id: EfaSecurityGroup(
                self,
                sg_id,
                vpc=vpc,
                description=f"EFA traffic between the nodes of {config.cluster_name} pool "
                + next(s.pool for s in node_groups.gpu if s.launch.efa_security_group == sg_id),
            )
            for sg_id in node_groups.efa_security_groups
        }
        # One template per pool with launch settings of its own (per group in an EFA pool); the
        # others share GpuLaunchTemplate (cluster_config/node_groups.py LaunchSpec).
        templates = {
            launch.construct_id: NodeLaunchTemplate(
                self,
                launch.construct_id,
                root_volume_gib=launch.root_volume_gib,
                throughput_mibps=launch.throughput_mibps,
                iops=launch.iops,
                node_config=node_config(fast_image_pull=launch.fast_image_pull),
                network_interfaces=launch.network_interfaces,
                security_group_ids=[
                    self.cluster.cluster_security_group_id,
                    efa_groups[launch.efa_security_group].security_group_id,
                ]
                if launch.efa_security_group
                else [],
                placement_group=ec2.PlacementGroup(
                    self, launch.placement_group, strategy=ec2.PlacementGroupStrategy.CLUSTER
                )
                if launch.placement_group
                else None,
            )
            for launch in node_groups.launch_templates
        }
        return templates

    def _addons(self, config: ClusterConfig, charts: AddonCharts) -> None:
        """The node monitoring agent, the autoscaler's identity, the charts attached as manifests
        (``self.addons``), the other managed add-ons (``self.managed_addons``) and the default
        namespace's Pod Security labels."""
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
            include_storage_class=config.ebs_csi_driver,
        )
        self.managed_addons = ManagedAddons(
            self,
            "ManagedAddons",
            cluster=self.cluster,
            ebs_csi_driver=config.ebs_csi_driver,
            metrics_server=config.metrics_server,
            gpu_metrics=config.observability.gpu_metrics,
            system_node_labels=SYSTEM_NODE_LABELS,
            after=[self.system_node_group.nodegroup, self.pod_identity_agent],
        )

        PodSecurityLabels(
            self,
            "DefaultNamespacePodSecurity",
            cluster=self.cluster,
            namespace="default",
            enforce="baseline",
            warn_and_audit="restricted",
        )

    def _acknowledge_required_aws_policies(self, kubectl_role: KubectlProviderRole) -> None:
        """cdk-nag findings on roles whose shape EKS or aws-cdk-lib dictates, at those roles."""
        managed = "AwsSolutions::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/{}]"
        Validations.of(self.cluster.role).acknowledge(
            Acknowledgment(
                id=managed.format("AmazonEKSClusterPolicy"),
                reason="EKS requires the AWS managed AmazonEKSClusterPolicy on the cluster role.",
            )
        )
        kubectl_provider = self.cluster.kubectl_provider
        assert kubectl_provider is not None
        # aws-cdk-lib 2.275 kubectl-provider.ts adds a CfnCondition (ID "HasEcrPublic", in the
        # role's scope: this stack) for the ECR Public policy it means to attach to the handler's
        # role; our role takes no policy updates, so nothing uses the condition and cfn-lint would
        # flag it. No public API leaves it out; tests/test_cluster_stack.py fails if aws-cdk-lib
        # stops adding it under that ID (then this line has nothing left to do).
        self.node.try_remove_child(UNUSED_ECR_PUBLIC_CONDITION)
        handler_function = _function_running_as(kubectl_provider, kubectl_role)
        kubectl_role.log_handler_to_own_group(handler_function)
        reason = (
            "Runtime of aws-cdk-lib's aws_eks_v2 kubectl provider (handler and Provider "
            "framework), which the Cluster API does not let us set."
        )
        Validations.of(kubectl_provider).acknowledge(
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
        for group in self.gpu_node_groups.values():
            CfnOutput(self, f"{group.node.id}NodegroupName", value=group.nodegroup_name)


UNUSED_ECR_PUBLIC_CONDITION = "HasEcrPublic"


def _function_running_as(scope: Construct, role: iam.IRole) -> lambda_.CfnFunction:
    """The one Lambda function under ``scope`` that runs as ``role``: the kubectl provider's
    handler, found by the role we gave it (public ``CfnFunction.role``), not by its construct ID,
    which aws-cdk-lib does not document."""
    stack = Stack.of(scope)
    wanted = stack.resolve(role.role_arn)
    functions = [
        c
        for c in scope.node.find_all()
        if isinstance(c, lambda_.CfnFunction) and stack.resolve(c.role) == wanted
    ]
    if len(functions) != 1:
        raise RuntimeError(
            f"expected one function under {scope.node.path} running as {role.node.path}, "
            f"found {len(functions)}: aws-cdk-lib's kubectl provider has changed"
        )
    return functions[0]


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
