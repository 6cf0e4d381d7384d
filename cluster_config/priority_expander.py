"""The cluster autoscaler's priority expander: its ConfigMap and how a priority is matched.

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

Which group gets which priority is decided with the rest of a group in
``cluster_config.node_groups`` (spot groups and the system group ``SPOT_PRIORITY``, on-demand
groups ``ON_DEMAND_PRIORITY``).
"""

from __future__ import annotations

from collections.abc import Mapping

from cluster_config.nodegroup_names import asg_name_pattern

CONFIG_MAP_NAME = "cluster-autoscaler-priority-expander"
CONFIG_MAP_KEY = "priorities"
SPOT_PRIORITY = 20
ON_DEMAND_PRIORITY = 10


def expander_priorities(priorities: Mapping[str, int]) -> dict[int, list[str]]:
    """Node group name -> priority, as the ConfigMap's map of priority to ASG-name regexes
    (highest first). Empty with a single priority: the expander would then choose nothing, and
    the autoscaler runs ``least-waste`` alone."""
    if len(set(priorities.values())) < 2:
        return {}
    document: dict[int, list[str]] = {}
    for priority in sorted(set(priorities.values()), reverse=True):
        document[priority] = [
            asg_name_pattern(name) for name, p in priorities.items() if p == priority
        ]
    return document


def expander_flag(priorities: Mapping[int, object]) -> str:
    """``--expander=...``: ``priority,least-waste`` with a priority ConfigMap, else
    ``least-waste``."""
    return "priority,least-waste" if priorities else "least-waste"
