"""A required node affinity: the DaemonSets that must land only on some nodes (a GPU plugin on
its GPU types, the EFA plugin on EFA pools) select them by node labels."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from cdk8s_plus_33 import k8s


def required_node_affinity(labels: Mapping[str, Iterable[str]]) -> k8s.Affinity:
    """Nodes whose every label in ``labels`` has one of its values (sorted, each once)."""
    return k8s.Affinity(
        node_affinity=k8s.NodeAffinity(
            required_during_scheduling_ignored_during_execution=k8s.NodeSelector(
                node_selector_terms=[
                    k8s.NodeSelectorTerm(
                        match_expressions=[
                            k8s.NodeSelectorRequirement(
                                key=key, operator="In", values=sorted(set(values))
                            )
                            for key, values in labels.items()
                        ]
                    )
                ]
            )
        )
    )
