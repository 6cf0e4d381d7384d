"""cdk8s charts of the cluster's Kubernetes add-ons, one per module, and how they are built.

Charts take plain typed values (never CDK objects), so they synthesize and are tested without a
CDK stack. ``build_charts`` derives those values from the node-group specs the stack also
builds from (``cluster_config.node_groups``), so the node groups and the charts cannot drift
apart; ``write_manifests`` writes each chart as a plain YAML file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import cdk8s
import yaml

from charts.cluster_autoscaler import (
    ClusterAutoscalerChart,
    autoscaler_args,
    capacity_buffer_args,
    scale_down_args,
    scale_up_latency_args,
)
from charts.ebs_storage_class import EbsStorageClassChart
from charts.efa_device_plugin import EfaDevicePluginChart
from charts.gpu_smoke_test import GpuSmokeTestChart
from charts.nvidia_device_plugin import NvidiaDevicePluginChart
from charts.warm_capacity import WarmCapacityChart
from cluster_config import ClusterConfig
from cluster_config.efa import EKS_ADDON_REGISTRIES
from cluster_config.node_groups import NodeGroupSpecs
from cluster_config.versions import kubernetes_release

CRD_DIR = Path(__file__).parent / "data"


@dataclass(frozen=True)
class AddonCharts:
    device_plugin: NvidiaDevicePluginChart
    autoscaler: ClusterAutoscalerChart
    smoke_test: GpuSmokeTestChart
    storage_class: EbsStorageClassChart
    warm_capacity: WarmCapacityChart | None
    """Only when a pool has ``warm_nodes``."""
    efa_device_plugin: EfaDevicePluginChart | None = None
    """Only when a pool has ``efa``."""

    def by_file_name(self) -> dict[str, cdk8s.Chart]:
        return {
            "nvidia-device-plugin": self.device_plugin,
            "cluster-autoscaler": self.autoscaler,
            "gpu-smoke-test": self.smoke_test,
            "ebs-storage-class": self.storage_class,
            **({"gpu-warm-capacity": self.warm_capacity} if self.warm_capacity else {}),
            **(
                {"aws-efa-k8s-device-plugin": self.efa_device_plugin}
                if self.efa_device_plugin
                else {}
            ),
        }


def build_charts(config: ClusterConfig, node_groups: NodeGroupSpecs) -> AddonCharts:
    """Every add-on chart for ``config`` and its node groups, each in its own cdk8s App (as
    add_cdk8s_chart needs)."""
    release = kubernetes_release(config.kubernetes_version)
    warm = node_groups.warm_pools
    buffers = bool(warm) and release.capacity_buffer_crd is not None
    return AddonCharts(
        device_plugin=NvidiaDevicePluginChart(
            cdk8s.App(),
            "NvidiaDevicePlugin",
            gpu_instance_types=node_groups.gpu_instance_types,
            sharing_configs=node_groups.device_plugin_configs,
            image_registry_mirror=config.image_registry_mirror,
        ),
        autoscaler=ClusterAutoscalerChart(
            cdk8s.App(),
            "ClusterAutoscaler",
            cluster_name=config.cluster_name,
            region=config.region,
            kubernetes_version=config.kubernetes_version,
            node_selector=node_groups.system.labels,
            args=_autoscaler_args(config, node_groups, buffers=buffers),
            expander_priorities=node_groups.expander_priorities,
            capacity_buffer_crd=CRD_DIR / str(release.capacity_buffer_crd) if buffers else None,
            image_registry_mirror=config.image_registry_mirror,
        ),
        smoke_test=GpuSmokeTestChart(
            cdk8s.App(), "GpuSmokeTest", image_registry_mirror=config.image_registry_mirror
        ),
        storage_class=EbsStorageClassChart(cdk8s.App(), "EbsStorageClass"),
        warm_capacity=WarmCapacityChart(
            cdk8s.App(),
            "GpuWarmCapacity",
            pools=warm,
            capacity_buffer_api=release.capacity_buffer_api,
            image_registry_mirror=config.image_registry_mirror,
        )
        if warm
        else None,
        efa_device_plugin=_efa_device_plugin(config, node_groups),
    )


def _efa_device_plugin(
    config: ClusterConfig, node_groups: NodeGroupSpecs
) -> EfaDevicePluginChart | None:
    efa = node_groups.efa_pools
    if not efa:
        return None
    return EfaDevicePluginChart(
        cdk8s.App(),
        "EfaDevicePlugin",
        registry=EKS_ADDON_REGISTRIES[config.region],
        pools=list(efa),
        instance_types=list(dict.fromkeys(t for g in efa.values() for t in g[0].instance_types)),
    )


def _autoscaler_args(
    config: ClusterConfig, node_groups: NodeGroupSpecs, *, buffers: bool
) -> list[str]:
    tuning = config.autoscaler
    release = kubernetes_release(config.kubernetes_version)
    return autoscaler_args(
        config.cluster_name,
        expander=node_groups.expander_flag,
        balancing_labels=node_groups.balancing_labels,
        tuning=scale_down_args(
            unneeded_minutes=tuning.scale_down_unneeded_minutes,
            delay_after_add_minutes=tuning.scale_down_delay_after_add_minutes,
            max_node_provision_minutes=tuning.max_node_provision_minutes,
            utilization_threshold=tuning.scale_down_utilization_threshold,
            gpu_utilization_threshold=tuning.scale_down_gpu_utilization_threshold,
        )
        + scale_up_latency_args(
            scan_interval_seconds=tuning.scan_interval_seconds,
            new_pod_scale_up_delay_seconds=tuning.new_pod_scale_up_delay_seconds,
        )
        + (capacity_buffer_args(release.cluster_autoscaler_tag) if buffers else []),
    )


def write_manifests(charts: AddonCharts, outdir: Path) -> list[Path]:
    """One ``<chart>.yaml`` per chart in ``outdir``, for kubectl or GitOps users."""
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for name, chart in charts.by_file_name().items():
        path = outdir / f"{name}.yaml"
        # PyYAML on the chart's objects: same YAML, one jsii round trip fewer per chart.
        path.write_text(yaml.safe_dump_all(chart.to_json(), sort_keys=False), encoding="utf-8")
        written.append(path)
    return written
