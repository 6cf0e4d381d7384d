"""The cluster autoscaler's priority expander, as configured from the cluster config.

Rules, from kubernetes/autoscaler ``cluster-autoscaler/expander/priority/priority.go``
(read at commit e0237d47, cluster-autoscaler 1.3x):
- ConfigMap ``kube-system/cluster-autoscaler-priority-expander``, key ``priorities``: YAML map of
  integer priority to a list of regexes (``PriorityConfigMapName``, ``ConfigMapKey``,
  ``parsePrioritiesYAMLString``);
- a regex matches a node group (ASG) name anywhere in it (``groupIDMatchesList``:
  ``FindStringIndex``), so ours are anchored;
- among the options that can take the pending pods, only those of the highest matching priority
  remain (``BestOption``); a group no regex matches "won't be used" (``BestOption``), so every
  group, the system group included, gets a priority; a group matching two priorities gets
  either (map order), so each group matches exactly one;
- the next expander in ``--expander=priority,least-waste`` picks among the remaining
  (``expander/factory/chain.go``).
An ASG whose scaling activity failed (no spot capacity) is reported out of resources
(``cloudprovider/aws/auto_scaling_groups.go`` ``isNodeGroupAvailable``,
``aws_cloud_provider.go`` ``Nodes``), backed off, and so is no longer an option: the next
priority is tried.
"""

from __future__ import annotations

from cluster_config.gpu_sharing import SHARING_CONFIG_LABEL, sharing_labels
from cluster_config.model import ClusterConfig
from cluster_config.nodegroup_names import asg_name_pattern, nodegroup_names

CONFIG_MAP_NAME = "cluster-autoscaler-priority-expander"
CONFIG_MAP_KEY = "priorities"
SPOT_PRIORITY = 20
ON_DEMAND_PRIORITY = 10
CAPACITY_TYPE_LABEL = "eks.amazonaws.com/capacityType"


def uses_on_demand_fallback(config: ClusterConfig) -> bool:
    """True when GPU groups of both capacity types exist: spot first, on-demand as fallback."""
    return {g.capacity_type for g in config.gpu_node_groups} == {"SPOT", "ON_DEMAND"}


def expander_priorities(config: ClusterConfig) -> dict[int, list[str]]:
    """Priority -> ASG-name regexes; spot groups (and the system group) before on-demand ones.

    Empty when the fallback is not in use (the autoscaler then runs ``least-waste`` alone).
    """
    if not uses_on_demand_fallback(config):
        return {}
    names = nodegroup_names(config)
    capacity = {config.system_node_group.name: config.system_node_group.capacity_type}
    capacity.update({g.name: g.capacity_type for g in config.gpu_node_groups})
    priorities: dict[int, list[str]] = {SPOT_PRIORITY: [], ON_DEMAND_PRIORITY: []}
    for group_name, nodegroup_name in names.items():
        # The system group never competes with GPU groups (GPU pods need the taint's
        # toleration and a GPU); it is listed so that the expander still uses it.
        is_spot = capacity[group_name] == "SPOT" or group_name == config.system_node_group.name
        priority = SPOT_PRIORITY if is_spot else ON_DEMAND_PRIORITY
        priorities[priority].append(asg_name_pattern(nodegroup_name))
    return priorities


def expander_flag(config: ClusterConfig) -> str:
    """``--expander=...``: ``priority,least-waste`` with the fallback, else ``least-waste``."""
    return "priority,least-waste" if uses_on_demand_fallback(config) else "least-waste"


def balancing_labels(config: ClusterConfig) -> tuple[str, ...]:
    """Labels beyond ``pool`` that must be equal for GPU groups to be balanced together.

    ``--balancing-label`` compares only the named labels
    (``processors/nodegroupset/label_nodegroups.go``), and balancing splits a scale-up among
    the chosen group and its similar groups: without ``capacityType`` an on-demand group would
    share every spot scale-up; without the sharing label, groups advertising different GPU
    counts per node would be balanced as equals. Empty when neither applies.
    """
    extra = []
    if uses_on_demand_fallback(config):
        extra.append(CAPACITY_TYPE_LABEL)
    if len({tuple(sharing_labels(config, g).items()) for g in config.gpu_node_groups}) > 1:
        extra.append(SHARING_CONFIG_LABEL)
    return tuple(extra)
