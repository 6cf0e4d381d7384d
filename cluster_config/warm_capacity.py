"""What a pool's warm capacity is: one buffer pod per warm node (``charts/warm_capacity.py``
makes it a CapacityBuffer or the autoscaler FAQ's pause pods)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class WarmPool:
    """One pool with ``warm_nodes``, as the chart and the checks need it."""

    pool: str
    nodes: int
    gpus_per_node: int
    """``nvidia.com/gpu`` one node of the pool advertises (time-slicing replicas included): a
    buffer pod asks for all of them, so exactly one fits a node."""

    @property
    def name(self) -> str:
        """``warm-<pool>``: the buffer's, its PodTemplate's or Deployment's name."""
        return f"warm-{self.pool}"
