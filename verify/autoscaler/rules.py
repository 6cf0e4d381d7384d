"""The check's rules: each reads the ``Scene`` and returns its problems.

Can a GPU pod scale each GPU group up from zero, and a pod that selects a pool only that pool's
groups; can a plain pod only reach the system group; does the device plugin (and the EFA plugin)
land on exactly the groups that need it; does the autoscaler itself run only on the system group.
"""

from __future__ import annotations

from cluster_config.efa import EFA_RESOURCE
from cluster_config.labels import POOL_LABEL
from verify.autoscaler.scene import Scene
from verify.autoscaler.workloads import DEVICE_PLUGIN_IMAGE
from verify.autoscaler_model import NVIDIA_GPU


def eks_addons_are_known(scene: Scene) -> list[str]:
    return list(scene.unknown_addons)


def the_autoscaler_is_deployed(scene: Scene) -> list[str]:
    if scene.autoscaler.manifest is None:
        return ["no cluster-autoscaler Deployment is attached to the cluster"]
    return []


def every_group_is_discovered(scene: Scene) -> list[str]:
    if scene.autoscaler.manifest is None:
        return []
    return [
        f"{g.name}: its ASG is not auto-discovered by the autoscaler's flags"
        for g in scene.groups
        if g not in scene.managed
    ]


def efa_pools_scale_up_and_run_the_efa_plugin(scene: Scene) -> list[str]:
    """An EFA pool's worker pod scales its groups up from zero and no group of another pool
    without EFA; the EFA device plugin runs on every EFA group's nodes and on no other."""
    problems = []
    if scene.efa_pods and not scene.efa_plugins:
        problems.append(
            f"no DaemonSet runs the EFA device plugin: EFA nodes advertise no {EFA_RESOURCE}"
        )
    plugin = scene.fits["efa plugin"]
    for g in scene.managed:
        pool = scene.pools[g.name]
        if pool in scene.efa_pods:
            pod = scene.efa_pods[pool]["containers"][0]["resources"]["limits"]
            why = scene.fits[f"efa pod {pool}"][g.name]
            if why is not None:
                problems.append(
                    f"{g.name}: a pod asking for {pod[NVIDIA_GPU]} GPUs and {pod[EFA_RESOURCE]} "
                    f"EFA cannot scale it up from zero: {why}"
                )
            if scene.efa_plugins and plugin[g.name] is not None:
                problems.append(
                    f"{g.name}: the EFA device plugin would not run on its nodes: {plugin[g.name]}"
                )
            continue
        problems += [
            f"{g.name}: an EFA pod of pool {other} would scale it up, but its nodes have no EFA"
            for other in scene.efa_pods
            if scene.fits[f"efa pod {other}"][g.name] is None
        ]
        if plugin[g.name] is None:
            problems.append(f"{g.name}: the EFA device plugin would run on this group without EFA")
    return problems


def the_device_plugin_is_deployed(scene: Scene) -> list[str]:
    if scene.plugins or not scene.gpu_groups:
        return []
    return [f"no DaemonSet runs {DEVICE_PLUGIN_IMAGE}: GPU nodes advertise no GPUs"]


def gpu_pods_scale_up_every_gpu_group(scene: Scene) -> list[str]:
    return [
        f"{g.name}: a {pod} cannot scale it up from zero: {scene.fits[pod][g.name]}"
        for g in scene.gpu_groups
        for pod in ("gpu pod", "gpu pod +10Gi disk")
        if scene.fits[pod][g.name] is not None
    ]


def pool_pods_scale_up_their_pool(scene: Scene) -> list[str]:
    problems = []
    for g in scene.gpu_groups:
        pool = scene.pools[g.name]
        if pool == "-":
            problems.append(
                f"{g.name}: its nodes carry no {POOL_LABEL} label: no pod can select it"
            )
        elif (why := scene.fits[f"pool pod {pool}"][g.name]) is not None:
            problems.append(f"{g.name}: a GPU pod selecting pool {pool} cannot scale it up: {why}")
    return problems


def pool_pods_stay_in_their_pool(scene: Scene) -> list[str]:
    gpu_pools = sorted({scene.pools[g.name] for g in scene.gpu_groups})
    return [
        f"{name}: a GPU pod selecting pool {pool} would scale it up"
        for pool in gpu_pools
        for name in scene.templates
        if scene.pools[name] != pool and scene.fits[f"pool pod {pool}"][name] is None
    ]


def plain_pods_stay_off_gpu_groups(scene: Scene) -> list[str]:
    return [
        f"{g.name}: a plain pod (no GPU toleration) would scale up a GPU group"
        for g in scene.gpu_groups
        if scene.fits["plain pod"][g.name] is None
    ]


def the_device_plugin_runs_on_gpu_groups_only(scene: Scene) -> list[str]:
    if not scene.plugins:
        return []
    fits = scene.fits["device plugin"]
    return [
        f"{g.name}: the device plugin would not run on its nodes: {fits[g.name]}"
        for g in scene.gpu_groups
        if fits[g.name] is not None
    ] + [
        f"{g.name}: the device plugin would run on this non-GPU group"
        for g in scene.system_groups
        if fits[g.name] is None
    ]


def the_autoscaler_stays_off_gpu_groups(scene: Scene) -> list[str]:
    if scene.autoscaler.pod is None:
        return []
    return [
        f"{g.name}: the autoscaler could run on this GPU group"
        for g in scene.gpu_groups
        if scene.fits["autoscaler"][g.name] is None
    ]


def the_autoscaler_has_a_home(scene: Scene) -> list[str]:
    if scene.autoscaler.pod is None:
        return []
    homes = [g for g in scene.system_groups if scene.fits["autoscaler"][g.name] is None]
    if not homes:
        return ["the autoscaler fits no group: nothing would scale anything"]
    if all(g.min_size == 0 for g in homes):
        return [
            "the autoscaler runs only on groups with min_size 0: at zero nothing scales them up"
        ]
    return []


RULES = (
    eks_addons_are_known,
    the_autoscaler_is_deployed,
    every_group_is_discovered,
    efa_pools_scale_up_and_run_the_efa_plugin,
    the_device_plugin_is_deployed,
    gpu_pods_scale_up_every_gpu_group,
    pool_pods_scale_up_their_pool,
    plain_pods_stay_off_gpu_groups,
    the_device_plugin_runs_on_gpu_groups_only,
    the_autoscaler_stays_off_gpu_groups,
    pool_pods_stay_in_their_pool,
    the_autoscaler_has_a_home,
)
"""Each rule reads the scene and returns its problems; the order is the report's."""
