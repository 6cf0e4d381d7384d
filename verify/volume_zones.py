"""Where a pod whose EBS volume already exists can scale up: the scheduler's volume filters.

An EBS volume lives in one zone. A pod that mounts a volume created earlier (a notebook's home, a
checkpoint) can only run in that zone, and the cluster autoscaler must add a node there and
nowhere else. It decides with the scheduler's default plugins (cluster-autoscaler-1.36.1
``simulator/framework/handle.go`` ``NewHandle``: ``schedulerconfiglatest.Default()`` unless
``--scheduler-config-file``); two of them read a pod's bound PersistentVolumes (kubernetes
``pkg/scheduler/framework/plugins``, read at master, late 2026, the ``fwk`` API of 1.34+):

- VolumeBinding, ``volumebinding/binder.go`` ``checkBoundClaims`` -> component-helpers
  ``storage/volume`` ``CheckNodeAffinity``: the PV's ``spec.nodeAffinity.required`` must match the
  node's labels (``MatchNodeSelectorTerms``, the matching of a pod's required node affinity);
- VolumeZone, ``volumezone/volume_zone.go`` ``Filter``: each zone or region label on the PV
  (values split on ``__``, ``LabelZonesToSet``) must be on the node (the beta key, else its GA
  key) with one of those values, unless the node has none of the four topology labels.

The EBS CSI driver writes a volume's zone into the PV's node affinity only: since v1.33.0 as
``topology.kubernetes.io/zone`` (aws-ebs-csi-driver ``pkg/driver/controller.go``
``newCreateVolumeResponse``, ``WellKnownZoneTopologyKey``); volumes made by older releases carry
``topology.ebs.csi.aws.com/zone`` (``driver.go`` ``ZoneTopologyKey``, deprecated). The
autoscaler's AWS template node has both labels (``aws_manager.go`` ``buildGenericLabels``), so no
node-template label tag is needed for scale-from-zero; the autoscaler FAQ ("I have a couple of
pending pods, but there was no scale-up?") asks for one group per zone, as the GPU groups are.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from verify.autoscaler.check import Simulation, simulate
from verify.autoscaler.probes import GPU_POD
from verify.autoscaler_model import similar_groups
from verify.report import CheckResult
from verify.scheduler_model import Node, fit_failure, node_affinity_mismatch

ZONE = "topology.kubernetes.io/zone"
REGION = "topology.kubernetes.io/region"
BETA_ZONE = "failure-domain.beta.kubernetes.io/zone"
BETA_REGION = "failure-domain.beta.kubernetes.io/region"
TOPOLOGY_LABELS = (BETA_ZONE, BETA_REGION, ZONE, REGION)
"""volume_zone.go ``topologyLabels``."""
_GA_LABEL = {BETA_ZONE: ZONE, BETA_REGION: REGION}
"""volume_zone.go ``translateToGALabel``."""

EBS_CSI_ADDON = "aws-ebs-csi-driver"
EBS_CSI_ZONE_KEYS = (ZONE, "topology.ebs.csi.aws.com/zone")
"""The key the driver writes into a new PV's node affinity, then the key of older releases."""
CLAIM = "data"


def ebs_volume(zone: str, key: str = ZONE) -> dict[str, Any]:
    """A PersistentVolume as the driver and the CSI external-provisioner create it for a
    volume in ``zone``: one required node-selector term on the zone key, no zone label."""
    return {
        "metadata": {"name": f"pvc-in-{zone}", "labels": {}},
        "spec": {
            "csi": {"driver": "ebs.csi.aws.com", "volumeHandle": "vol-0123456789abcdef0"},
            "nodeAffinity": {
                "required": {
                    "nodeSelectorTerms": [
                        {"matchExpressions": [{"key": key, "operator": "In", "values": [zone]}]}
                    ]
                }
            },
        },
    }


def with_claim(pod_spec: Mapping[str, Any], claim: str = CLAIM) -> dict[str, Any]:
    """The pod spec with a volume from PersistentVolumeClaim ``claim``."""
    volumes = [
        *pod_spec.get("volumes", []),
        {"name": claim, "persistentVolumeClaim": {"claimName": claim}},
    ]
    return {**pod_spec, "volumes": volumes}


def volume_binding_mismatch(pv: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """``CheckNodeAffinity``: no node affinity, or no required part, matches every node."""
    required = pv.get("spec", {}).get("nodeAffinity", {}).get("required")
    if required is None:
        return None
    as_pod = {
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": required}}
    }
    if node_affinity_mismatch(as_pod, labels) is not None:
        return f"volume node affinity ({_terms(required)}) does not match"
    return None


def volume_zone_conflict(pv: Mapping[str, Any], labels: Mapping[str, str]) -> str | None:
    """VolumeZone ``Filter`` for one bound PV."""
    if not any(key in labels for key in TOPOLOGY_LABELS):
        return None
    for key in TOPOLOGY_LABELS:
        value = pv.get("metadata", {}).get("labels", {}).get(key)
        if value is None:
            continue
        zones = {z.strip() for z in value.split("__") if z.strip()}
        have = labels.get(key, labels.get(_GA_LABEL.get(key, key)))
        if have is None or have not in zones:
            return f"volume label {key}={value} conflicts (no available volume zone)"
    return None


def bound_volume_failure(
    pod_spec: Mapping[str, Any], volumes: Sequence[Mapping[str, Any]], node: Node
) -> str | None:
    """Why a pod whose claims are bound to ``volumes`` cannot go to ``node``, or None."""
    for pv in volumes:
        why = volume_binding_mismatch(pv, node.labels) or volume_zone_conflict(pv, node.labels)
        if why is not None:
            return why
    return fit_failure(pod_spec, node)


def bound_volume_scale_up(simulation: Simulation) -> tuple[list[str], list[str]]:
    """For each GPU group's zone and each key the driver has written: the groups a GPU pod
    with a volume bound there scales up (the groups it fits, and those a scale-up is balanced
    with, ``similar_groups``). Problems: a zone whose groups the pod cannot reach from zero, or
    a scale-up that reaches another zone. Returns (problems, one report line)."""
    gpu = [g for g in simulation.groups if g.gpu and g.name in simulation.templates]
    nodes = {g.name: simulation.templates[g.name] for g in gpu}
    zone_of = {g.name: g.zones[0] for g in gpu if len(g.zones) == 1}
    pod = with_claim(GPU_POD)
    problems: list[str] = []
    reached: dict[str, list[str]] = {}
    for zone in sorted(set(zone_of.values())):
        for key in EBS_CSI_ZONE_KEYS:
            volume = [ebs_volume(zone, key)]

            def fits(node: Node, volume: Sequence[Mapping[str, Any]] = volume) -> bool:
                return bound_volume_failure(pod, volume, node) is None

            targets = {name for name, node in nodes.items() if fits(node)}
            for name in sorted(targets):
                similar = similar_groups(name, nodes, simulation.flags, fits)
                targets |= {other for other, why in similar.items() if why is None}
            local = sorted(name for name, z in zone_of.items() if z == zone)
            where = f"a GPU pod with a volume bound in {zone} ({key})"
            if not targets & set(local):
                problems.append(f"{where} scales up none of {', '.join(local)}")
            if stray := sorted(t for t in targets if zone_of.get(t) != zone):
                problems.append(f"{where} would scale up {', '.join(stray)} in another zone")
            reached.setdefault(zone, sorted(targets))
    spread = "; ".join(f"{zone}: {' + '.join(names) or 'none'}" for zone, names in reached.items())
    return problems, [f"scale-up per volume zone: {spread}"]


def check_volume_zones(
    cluster: Mapping[str, Any],
    network: Mapping[str, Any],
    objects: Sequence[Mapping[str, Any]],
) -> CheckResult:
    """The ``volume-zone`` line: FAIL when a zone-bound GPU pod could not scale up its zone's
    groups, or would scale up another zone's; SKIP without the EBS CSI driver add-on."""
    addons = {
        r["Properties"].get("AddonName")
        for r in cluster["Resources"].values()
        if r["Type"] == "AWS::EKS::Addon"
    }
    if EBS_CSI_ADDON not in addons:
        return CheckResult("volume-zone", "SKIP", f"no {EBS_CSI_ADDON} add-on (ebs_csi_driver)")
    problems, table = bound_volume_scale_up(simulate(cluster, network, objects))
    summary = "a GPU pod whose EBS volume is in one zone scales up only that zone's GPU groups"
    return CheckResult("volume-zone", "FAIL" if problems else "PASS", summary, problems, table)


def _terms(required: Mapping[str, Any]) -> str:
    return " or ".join(
        ", ".join(
            f"{e['key']} {e['operator']} {','.join(e.get('values', []))}"
            for e in term.get("matchExpressions", [])
        )
        for term in required.get("nodeSelectorTerms", [])
    )
