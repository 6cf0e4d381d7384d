"""The check's table: each group's template node and which probe pods fit it, then balancing,
the largest pod per pool and the warm-capacity buffers, each part fitting 100 columns.
"""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from fractions import Fraction

from cluster_config.efa import EFA_RESOURCE
from verify.autoscaler.balancing import Balancing
from verify.autoscaler.groups import GroupFacts
from verify.autoscaler.largest_pod import LARGEST_POD_RESOURCES, LargestPod, format_request
from verify.autoscaler.scene import Scene
from verify.autoscaler_model import NVIDIA_GPU
from verify.scheduler_model import Node

TABLE_COLUMNS = (
    ("group", "pool", "capacity", "zone", "type"),
    ("group", "cpu", "memory", "gpu", "disk", "taint"),
    ("group", "gpu pod", "pool pod", "+10Gi", "plain", "plugin", "CA"),
)
"""The groups table, in three parts so each fits 100 columns (one table was about 170)."""

EFA_TABLE_COLUMNS = ("group", "efa", "efa pod", "efa plugin")
"""A fourth part, printed when a group's template offers ``vpc.amazonaws.com/efa``."""

TABLE_LEGEND = (
    "(yes: the pod fits the group's template node at zero, which holds the kube-proxy mirror pod "
    "and every DaemonSet's pod. gpu pod: 1 nvidia.com/gpu and the GPU toleration, no selector; "
    "pool pod: the same with nodeSelector pool=<its pool>; +10Gi: with 10Gi ephemeral storage; "
    "plain: no toleration; plugin: the NVIDIA device plugin; CA: the autoscaler itself; disk: "
    "ephemeral storage the template offers; efa: vpc.amazonaws.com/efa the template offers; efa "
    "pod: every GPU and EFA of an EFA pool's node, no selector; efa plugin: the EFA device plugin)"
)
"""Under the tables (wrapped to fit 100 columns), naming their columns."""

TABLE_HEADER = (
    "group",
    "pool",
    "capacity",
    "zone",
    "type",
    "cpu",
    "memory",
    "gpu",
    "disk",
    "taint",
    "efa",
    "gpu pod",
    "pool pod",
    "+10Gi",
    "plain",
    "plugin",
    "CA",
    "efa pod",
    "efa plugin",
)


def report_table(
    scene: Scene,
    largest: Mapping[str, LargestPod],
    balancing: Balancing,
    buffers: Mapping[str, Sequence[str]],
) -> list[str]:
    return [
        *_group_rows(scene),
        *textwrap.wrap(TABLE_LEGEND, 88),
        *_balancing_lines(scene, balancing),
        *_largest_lines(scene, largest),
        *_buffer_lines(buffers),
    ]


def _group_rows(scene: Scene) -> list[str]:
    """A row per group (``TABLE_HEADER``), printed in the parts of ``TABLE_COLUMNS``, and of
    ``EFA_TABLE_COLUMNS`` when a group's template offers EFA."""
    rows = [TABLE_HEADER, *(_group_row(scene, group) for group in scene.managed)]
    efa = TABLE_HEADER.index("efa")
    parts = TABLE_COLUMNS + ((EFA_TABLE_COLUMNS,) if any(r[efa] != "-" for r in rows[1:]) else ())
    return [line for columns in parts for line in _columns(rows, columns)]


def _group_row(scene: Scene, group: GroupFacts) -> tuple[str, ...]:
    """The group's cells, in ``TABLE_HEADER``'s order."""
    node = scene.templates[group.name]
    pool = scene.pools[group.name]
    return (
        group.name,
        pool,
        group.nodegroup.capacity_type or "-",
        ",".join(z[-1] for z in group.zones) if len(group.zones) > 1 else group.zones[0],
        group.instance_types[0],
        _quantity(node, "cpu", 1, ""),
        _quantity(node, "memory", 2**30, "Gi"),
        _quantity(node, NVIDIA_GPU, 1, ""),
        _quantity(node, "ephemeral-storage", 2**30, "Gi"),
        ",".join(sorted({f"{t.key}:{t.effect}" for t in node.taints})) or "-",
        _quantity(node, EFA_RESOURCE, 1, ""),
        _yes(scene, "gpu pod", group.name),
        _yes(scene, f"pool pod {pool}", group.name) if group.gpu else "-",
        _yes(scene, "gpu pod +10Gi disk", group.name),
        _yes(scene, "plain pod", group.name),
        _yes(scene, "device plugin", group.name),
        _yes(scene, "autoscaler", group.name),
        _efa_pod_fits(scene, group.name),
        _yes(scene, "efa plugin", group.name),
    )


def _yes(scene: Scene, pod: str, name: str) -> str:
    """``yes`` when the pod fits the group's template node; ``no`` when not, or not asked."""
    return "yes" if scene.fits.get(pod, {}).get(name, "absent") is None else "no"


def _efa_pod_fits(scene: Scene, name: str) -> str:
    """Its own pool's EFA pod on an EFA group; any EFA pod on another ("-" without one)."""
    efa = [pod for pod in scene.fits if pod.startswith("efa pod ")]
    own = f"efa pod {scene.pools[name]}"
    if own in efa:
        return _yes(scene, own, name)
    if not efa:
        return "-"
    return "yes" if any(scene.fits[pod][name] is None for pod in efa) else "no"


def _quantity(node: Node, name: str, unit: int, suffix: str) -> str:
    """The template's capacity of a resource in ``unit`` (a fractional cpu in millicores), or
    ``-`` without any."""
    value = node.capacity.get(name)
    if not value:
        return "-"
    if name == "cpu" and value.denominator != 1:
        return f"{int(value * 1000)}m"
    return f"{int(value // unit)}{suffix}"


def _balancing_lines(scene: Scene, balancing: Balancing) -> list[str]:
    flags = scene.autoscaler.flags
    how = (
        f"--balancing-label={','.join(flags.balancing_labels)}"
        if flags.balancing_labels
        else "built-in comparison"
        + (
            f", ignoring {','.join(flags.balancing_ignore_labels)}"
            if flags.balancing_ignore_labels
            else ""
        )
    )
    lines = [f"balancing ({how}):"]
    by_name = {g.name: g for g in scene.managed}
    for state, result in (
        ("all at zero", balancing.at_zero),
        ("one live node, others at zero", balancing.live),
    ):
        sets = {
            tuple(sorted([group, *(o for o, why in others.items() if why is None)]))
            for group, others in result.items()
        }
        for members in sorted(sets, key=lambda s: (not by_name[s[0]].gpu, s)):
            first = by_name[members[0]]
            what = (
                f"pool {scene.pools[first.name]} ({first.nodegroup.capacity_type or '-'})"
                if first.gpu
                else f"system group {first.name}"
            )
            spread = " + ".join(members) if len(members) > 1 else f"{members[0]} alone"
            lines.append(f"  {state}: {what}: a scale-up is spread over {spread}")
    return lines


def _largest_lines(scene: Scene, largest: Mapping[str, LargestPod]) -> list[str]:
    if not largest:
        return []

    def amounts(values: Mapping[str, Fraction]) -> str:
        return ", ".join(format_request(r, values[r]) for r in LARGEST_POD_RESOURCES)

    lines = [
        "largest single GPU pod (cpu, memory, ephemeral-storage): what scales a group up "
        "from zero / what the node that joins can run:"
    ]
    shown: set[tuple[str, str]] = set()
    for group in scene.managed:
        pod = largest.get(group.name)
        key = (scene.pools[group.name], group.instance_types[0])
        if pod is None or key in shown:
            continue
        shown.add(key)
        lines.append(f"  pool {key[0]} ({key[1]}): {amounts(pod.scales_up)} / {amounts(pod.runs)}")
    return lines


def _buffer_lines(buffers: Mapping[str, Sequence[str]]) -> list[str]:
    if not buffers:
        return []
    return ["warm capacity (buffer pods the autoscaler must find room for):"] + [
        f"  {name}: scales up {' + '.join(groups) if groups else 'no group'}"
        for name, groups in buffers.items()
    ]


def _columns(rows: Sequence[tuple[str, ...]], columns: tuple[str, ...]) -> list[str]:
    """``columns`` of ``rows`` (the first row names them), each padded to its widest cell."""
    picked = [tuple(str(r[rows[0].index(c)]) for c in columns) for r in rows]
    widths = [max(len(r[i]) for r in picked) for i in range(len(columns))]
    return ["  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in picked]
