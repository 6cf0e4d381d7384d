"""The node-group specs (cluster_config/node_groups.py): pure Python, no synth. Also the two
structural rules of the spec: nothing but the spec function reads ``config.gpu_pools``, and the
project's own modules import each other without a cycle."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest

from cluster_config.labels import NODE_TEMPLATE_PREFIX
from cluster_config.node_groups import NodeGroupSpecs, node_group_specs
from cluster_config.priority_expander import ON_DEMAND_PRIORITY, SPOT_PRIORITY
from tests.support import ROOT, config_with, default_data

SOURCE_DIRS = (
    "app.py",
    "cli",
    "stacks",
    "constructs_lib",
    "charts",
    "cluster_config",
    "aws_rules",
    "verify",
    "bench",
)
GPU_POOLS_READERS = {"cluster_config/node_groups.py", "cluster_config/rules.py"}
"""The spec function, and the config rules that check the pools."""


def specs_of(overrides: dict[str, Any] | None = None) -> NodeGroupSpecs:
    return node_group_specs(config_with(overrides))


def inference_and_training() -> NodeGroupSpecs:
    return specs_of(
        {
            "gpu_pools": [
                {
                    "name": "inference",
                    "instance_types": ["g5.xlarge", "g6.xlarge"],
                    "min_size": 0,
                    "max_size": 4,
                    "gpu_sharing": {"replicas": 4},
                },
                {
                    "name": "training",
                    "instance_types": ["g6e.12xlarge"],
                    "availability_zones": ["us-west-2a", "us-west-2b"],
                    "min_size": 0,
                    "max_size": 2,
                    "on_demand_fallback": {"max_size": 1},
                    "labels": {"team": "research"},
                },
            ]
        }
    )


def test_default_pool_reproduces_the_seed_groups_ids_and_names() -> None:
    specs = specs_of()
    assert [(s.construct_id, s.physical_name, s.availability_zones) for s in specs.gpu] == [
        ("GpuSpotNgA", "gpu-spot-ng-a-bee838", ("us-west-2a",)),
        ("GpuSpotNgB", "gpu-spot-ng-b-40f3fd", ("us-west-2b",)),
        ("GpuSpotNgC", "gpu-spot-ng-c-a57b80", ("us-west-2c",)),
    ]
    assert (specs.system.construct_id, specs.system.physical_name) == (
        "SystemNodeGroup",
        "spot-ng-839a54",
    )


def test_every_group_of_a_pool_carries_the_pool_label_and_the_gpu_labels() -> None:
    for spec in specs_of().gpu:
        assert dict(spec.labels) == {
            "pool": "gpu-spot-ng",
            "k8s.amazonaws.com/accelerator": "nvidia",  # g5 A10G and g6 L4 mixed
            "nvidia.com/gpu.present": "true",
            "gpu-memory-gb": "24",
        }
    assert dict(specs_of().system.labels) == {"pool": "system"}


def test_node_template_tags_hold_labels_taint_and_resources() -> None:
    spec = specs_of().gpu[0]
    assert spec.node_template_tags == {
        f"{NODE_TEMPLATE_PREFIX}/label/gpu-memory-gb": "24",
        f"{NODE_TEMPLATE_PREFIX}/label/k8s.amazonaws.com/accelerator": "nvidia",
        f"{NODE_TEMPLATE_PREFIX}/label/nvidia.com/gpu.present": "true",
        f"{NODE_TEMPLATE_PREFIX}/label/pool": "gpu-spot-ng",
        f"{NODE_TEMPLATE_PREFIX}/taint/nvidia.com/gpu": "true:NoSchedule",
        f"{NODE_TEMPLATE_PREFIX}/resources/ephemeral-storage": "90675Mi",
        f"{NODE_TEMPLATE_PREFIX}/resources/nvidia.com/gpu": "1",
        # g5.xlarge less nodeadm's kube-reserved (cpu 80m; memory 11 x 58 pods + 255 MiB), the
        # eviction threshold and 6% of its 16 GiB for the kernel (aws_rules/nodeadm.py)
        f"{NODE_TEMPLATE_PREFIX}/resources/cpu": "3920m",
        f"{NODE_TEMPLATE_PREFIX}/resources/memory": "14407Mi",
    }
    assert specs_of().system.node_template_tags == {}


def test_a_pool_with_a_fallback_makes_spot_then_on_demand_groups_per_zone() -> None:
    training = inference_and_training().pools["training"]
    assert [(s.name, s.capacity_type, s.priority, s.max_size) for s in training] == [
        ("training-a", "SPOT", SPOT_PRIORITY, 2),
        ("training-b", "SPOT", SPOT_PRIORITY, 2),
        ("training-od-a", "ON_DEMAND", ON_DEMAND_PRIORITY, 1),
        ("training-od-b", "ON_DEMAND", ON_DEMAND_PRIORITY, 1),
    ]
    assert {s.labels["pool"] for s in training} == {"training"}
    assert all(s.labels["team"] == "research" for s in training)
    assert [s.fallback for s in training] == [False, False, True, True]


def test_pools_of_different_shapes_keep_their_own_labels_and_resources() -> None:
    pools = inference_and_training().pools
    inference, training = pools["inference"][0], pools["training"][0]
    assert inference.node_template_resources["nvidia.com/gpu"] == "4"  # 1 GPU x 4 replicas
    assert training.node_template_resources["nvidia.com/gpu"] == "4"  # 4 GPUs, no sharing
    assert inference.labels["nvidia.com/device-plugin.config"] == "time-slicing-4"
    assert "nvidia.com/device-plugin.config" not in training.labels
    assert (inference.labels["gpu-memory-gb"], training.labels["gpu-memory-gb"]) == ("24", "48")
    assert training.labels["k8s.amazonaws.com/accelerator"] == "nvidia-l40s"


def test_the_expander_prefers_spot_and_the_fallback_is_balanced_apart() -> None:
    specs = inference_and_training()
    assert specs.expander_flag == "priority,least-waste"
    priorities = specs.expander_priorities
    assert list(priorities) == [SPOT_PRIORITY, ON_DEMAND_PRIORITY]
    assert len(priorities[SPOT_PRIORITY]) == 1 + 3 + 2  # system, inference, training spot
    assert [p.split("-")[1:4] for p in priorities[ON_DEMAND_PRIORITY]] == [
        ["training", "od", "a"],
        ["training", "od", "b"],
    ]
    assert specs.balancing_labels == ("pool", "eks.amazonaws.com/capacityType")


def test_without_a_fallback_one_priority_and_only_the_pool_label() -> None:
    specs = specs_of()
    assert (specs.expander_priorities, specs.expander_flag) == ({}, "least-waste")
    assert specs.balancing_labels == ("pool",)


def test_device_plugin_values_cover_every_pool() -> None:
    specs = inference_and_training()
    assert specs.gpu_instance_types == ("g5.xlarge", "g6.xlarge", "g6e.12xlarge")
    assert list(specs.device_plugin_configs) == ["time-slicing-4"]


def test_reordering_pools_changes_no_construct_id_or_name() -> None:
    data = default_data()
    second = {"name": "training", "instance_types": ["g6e.12xlarge"], "min_size": 0, "max_size": 1}
    forward = specs_of({"gpu_pools": [*data["gpu_pools"], second]})
    backward = specs_of({"gpu_pools": [second, *data["gpu_pools"]]})
    assert {(s.construct_id, s.physical_name) for s in forward.gpu} == {
        (s.construct_id, s.physical_name) for s in backward.gpu
    }


def test_specs_are_frozen() -> None:
    spec = specs_of().gpu[0]
    with pytest.raises(AttributeError):
        spec.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        spec.labels["pool"] = "other"  # type: ignore[index]


# --- structure ---------------------------------------------------------------------------------


def _project_modules() -> dict[str, Path]:
    files: list[Path] = []
    for entry in SOURCE_DIRS:
        path = ROOT / entry
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return {
        ".".join(f.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): f
        for f in files
    }


def test_only_the_spec_function_reads_gpu_pools() -> None:
    readers = set()
    for path in _project_modules().values():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        # ``<config>.gpu_pools``; bench/ reads the raw cdk.json document (a dict), not the config.
        names = {n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)}
        if "gpu_pools" in names:
            readers.add(path.relative_to(ROOT).as_posix())
    assert readers == GPU_POOLS_READERS


def test_the_structure_check_sees_a_reader() -> None:
    tree = ast.parse("def cost(config):\n    return len(config.gpu_pools)\n")
    assert any(isinstance(n, ast.Attribute) and n.attr == "gpu_pools" for n in ast.walk(tree))


def _imports(path: Path, modules: set[str]) -> set[str]:
    """Project modules ``path`` imports, ``TYPE_CHECKING`` blocks and function bodies included."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module, *(f"{node.module}.{a.name}" for a in node.names)]
        found |= {n for n in names if n in modules}
    return found


def _cycle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        stack.append(module)
        for target in sorted(graph[module]):
            if state.get(target) == 1:
                return [*stack[stack.index(target) :], target]
            if target not in state and (found := visit(target)):
                return found
        stack.pop()
        state[module] = 2
        return None

    for module in sorted(graph):
        if module not in state and (found := visit(module)):
            return found
    return None


def test_project_modules_import_each_other_without_a_cycle() -> None:
    modules = _project_modules()
    # A package's __init__ re-exporting its modules is not a cycle of the modules themselves.
    graph = {
        name: {t for t in _imports(path, set(modules)) if not name.startswith(f"{t}.")}
        for name, path in modules.items()
    }
    assert _cycle(graph) is None, " -> ".join(_cycle(graph) or [])


def test_the_cycle_check_finds_a_type_checking_cycle() -> None:
    assert _cycle({"a": {"b"}, "b": {"a"}}) == ["a", "b", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) is None
