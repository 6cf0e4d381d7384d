"""The instance catalog against its data: every accepted type is a row of the autoscaler's list,
with exactly that row's shape; nothing the data does not list is accepted."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from cluster_config import ConfigError
from cluster_config.catalog import (
    ALL_INSTANCE_TYPES,
    GENERAL_INSTANCE_TYPES,
    GPU_FAMILIES,
    GPU_INSTANCE_TYPES,
    INSTANCE_FAMILIES,
    accelerator_label,
    gpu_count,
    gpu_memory_gb,
    why_not_accepted,
)
from cluster_config.node_groups import node_group_specs
from tests.support import ROOT, config_with, default_data

DATA = ROOT / "cluster_config" / "data"

# kubernetes/autoscaler cloudprovider/aws/aws_cloud_provider.go availableGPUTypes (55c37cd).
AUTOSCALER_GPU_TYPES = {
    "nvidia-tesla-k80",
    "nvidia-tesla-p100",
    "nvidia-tesla-v100",
    "nvidia-tesla-t4",
    "nvidia-tesla-a100",
    "nvidia-a10g",
    "nvidia-l4",
    "nvidia-l40s",
}


def tsv_rows(path: Path) -> dict[str, tuple[int, int, int, str]]:
    """The autoscaler's list read here on its own: name -> (vCPU, memory MiB, GPUs, arch)."""
    lines = [line for line in path.read_text().splitlines() if not line.startswith("#")]
    return {
        name: (int(vcpu), int(memory), int(gpu), arch)
        for name, vcpu, memory, gpu, arch in csv.reader(lines, delimiter="\t")
    }


ROWS = tsv_rows(DATA / "ca-ec2-instance-types.tsv")


def system_config(types: list[str]) -> object:
    system = default_data()["system_node_group"] | {"instance_types": types}
    return config_with({"system_node_group": system})


def gpu_config(types: list[str]) -> object:
    pools = default_data()["gpu_pools"]
    pools[0]["instance_types"] = types
    return config_with({"gpu_pools": pools})


def test_the_repo_copy_names_its_upstream_source_and_date() -> None:
    header = (DATA / "ca-ec2-instance-types.tsv").read_text().splitlines()[0]
    assert "kubernetes/autoscaler" in header
    assert "cloudprovider/aws/ec2_instance_types.go" in header
    assert "2026-01-22" in header


def test_the_catalog_holds_every_row_of_the_list_and_nothing_else() -> None:
    assert len(ROWS) > 1000
    assert {
        name: (s.vcpus, s.memory_mib, s.gpus, s.architecture)
        for name, s in ALL_INSTANCE_TYPES.items()
    } == ROWS


@pytest.mark.parametrize(
    "accepted", [GPU_INSTANCE_TYPES, GENERAL_INSTANCE_TYPES], ids=["gpu", "system"]
)
def test_every_accepted_type_is_a_row_of_the_list_with_its_exact_shape(
    accepted: dict[str, object],
) -> None:
    for name, shape in accepted.items():
        assert name in ROWS, name
        assert (shape.vcpus, shape.memory_mib, shape.gpus, shape.architecture) == ROWS[name]  # type: ignore[attr-defined]


def test_accepted_gpu_types_are_x86_nvidia_types_the_al2023_ami_supports() -> None:
    for name, shape in GPU_INSTANCE_TYPES.items():
        facts = INSTANCE_FAMILIES[name.split(".")[0]]
        assert (shape.architecture, facts.use) == ("amd64", "gpu"), name
        assert shape.gpus > 0 and shape.gpu_memory_gb and shape.gpu_model, name
    # Every supported row of the list is accepted: the filter drops no usable GPU type.
    expected = {
        n
        for n, (_, _, gpus, arch) in ROWS.items()
        if gpus
        and arch == "amd64"
        and getattr(INSTANCE_FAMILIES.get(n.split(".")[0]), "use", None) == "gpu"
    }
    assert set(GPU_INSTANCE_TYPES) == expected


def test_system_types_have_no_gpu_or_other_accelerator() -> None:
    for name, shape in GENERAL_INSTANCE_TYPES.items():
        assert (shape.gpus, shape.architecture) == (0, "amd64"), name
        assert name.split(".")[0] not in INSTANCE_FAMILIES, name
    for refused in ("inf2.xlarge", "trn1.2xlarge", "f1.2xlarge", "g6f.xlarge", "m6g.large"):
        assert refused in ROWS and refused not in GENERAL_INSTANCE_TYPES, refused


def test_g6e_12xlarge_has_four_gpus_and_384_gib() -> None:
    shape = GPU_INSTANCE_TYPES["g6e.12xlarge"]
    assert (shape.vcpus, shape.memory_mib, shape.gpus) == (48, 384 * 1024, 4)
    assert (shape.gpu_model, shape.gpu_memory_gb) == ("nvidia-l40s", 48)
    assert gpu_count(["g6e.12xlarge"]) == 4


def test_memory_is_kept_in_exact_mib() -> None:
    # 1740 MiB is not a whole GiB: rounding would invent a shape the autoscaler does not use.
    assert ALL_INSTANCE_TYPES["c1.medium"].memory_mib == 1740


def test_accelerator_values_are_the_autoscalers_where_it_knows_the_model() -> None:
    for family in ("g4dn", "g5", "g6", "g6e", "p3", "p4d"):
        assert INSTANCE_FAMILIES[family].accelerator in AUTOSCALER_GPU_TYPES, family


def test_a_mixed_model_group_is_labelled_with_the_generic_accelerator() -> None:
    assert accelerator_label(["g5.xlarge"]) == "nvidia-a10g"
    assert accelerator_label(["g5.xlarge", "g6.xlarge"]) == "nvidia"
    assert gpu_memory_gb(["g5.xlarge", "g6.xlarge"]) == 24


def test_gpu_memory_of_a_mixed_group_is_refused_outside_the_config() -> None:
    with pytest.raises(ValueError, match="do not share one GPU memory size"):
        gpu_memory_gb(["g5.xlarge", "g4dn.xlarge"])


def test_c5_8xlarge_does_not_exist_and_is_refused_with_the_real_sizes() -> None:
    with pytest.raises(ConfigError) as caught:
        system_config(["c5.8xlarge"])
    assert [str(p) for p in caught.value.problems] == [
        "system_node_group.instance_types.0: 'c5.8xlarge' is not a supported non-GPU instance "
        "type: the autoscaler's instance list has no such type; c5 sizes: large, xlarge, "
        "2xlarge, 4xlarge, 9xlarge, 12xlarge, 18xlarge, 24xlarge, metal; allowed: an amd64 type "
        "without GPU or other accelerator listed in cluster_config/data/ca-ec2-instance-types.tsv"
        " [InstanceTypeNotSupported]"
    ]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("p5e.48xlarge", "the autoscaler's instance list has no such type (close: p5en.48xlarge"),
        ("p2.xlarge", "the autoscaler's instance list has no such type (close: "),
        ("g5g.xlarge", "g5g is not usable here: arm64"),
        ("g4ad.xlarge", "g4ad is not usable here: AMD Radeon Pro V520"),
        ("g6f.xlarge", "g6f is not usable here: fractional NVIDIA L4"),
        ("m5.xlarge", "it has no GPU"),
    ],
)
def test_gpu_types_outside_the_data_are_refused_with_a_short_reason(name: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        gpu_config([name])
    problems = [str(p) for p in caught.value.problems]
    assert len(problems) == 1  # one for the pool, naming its field
    prefix = f"gpu_pools.0.instance_types.0: '{name}' is not a supported GPU instance type: "
    assert problems[0].startswith(prefix + reason), problems[0]
    assert problems[0].endswith(
        "allowed: a g4dn, g5, g6, g6e, g7e, gr6, p3, p3dn, p4d, p4de, p5, p5en, p6-b200 type "
        "listed in cluster_config/data/ca-ec2-instance-types.tsv [InstanceTypeNotSupported]"
    )
    assert len(problems[0]) < 430  # names families, never the thousand types


def test_every_accepted_gpu_type_builds_a_config() -> None:
    for name in GPU_INSTANCE_TYPES:
        config = gpu_config([name])
        assert node_group_specs(config).gpu_instance_types == (name,)  # type: ignore[arg-type]


def test_an_unknown_system_type_is_refused_with_close_matches() -> None:
    assert why_not_accepted("m7x.large", gpu=False).startswith(
        "the autoscaler's instance list has no such type (close: "
    )


# EKS user guide, "Use EKS-optimized accelerated AMIs for GPU instances", row "AL2023 x86_64
# NVIDIA" (late 2026, shared/reference/FACTS.md).
AL2023_NVIDIA_AMI_FAMILIES = (
    *("p6-b300", "p6-b200", "p5", "p5e", "p5en", "p4d", "p4de", "p3", "p3dn"),
    *("g7e", "gr6", "g6", "g6e", "g6f", "gr6f", "g5", "g4dn"),
)


def test_every_family_of_the_al2023_nvidia_ami_is_accepted_or_refused_with_its_reason() -> None:
    accepted = {f for f in AL2023_NVIDIA_AMI_FAMILIES if f in GPU_FAMILIES}
    refused = {
        f: INSTANCE_FAMILIES[f].note for f in AL2023_NVIDIA_AMI_FAMILIES if f not in accepted
    }
    assert accepted == {
        *("p6-b200", "p5", "p5en", "p4d", "p4de", "p3", "p3dn"),
        *("g7e", "gr6", "g6", "g6e", "g5", "g4dn"),
    }
    # Not accepted, each for a reason the data gives: no row in the autoscaler's list (p5e,
    # p6-b300), or rows with 0 GPUs, so a template node at zero would have none (g6f, gr6f).
    assert sorted(refused) == ["g6f", "gr6f", "p5e", "p6-b300"]
    assert INSTANCE_FAMILIES["p5e"].use == "gpu"
    assert not any(n.startswith(("p5e.", "p6-b300.")) for n in ALL_INSTANCE_TYPES)
    assert all(ROWS[n][2] == 0 for n in ROWS if n.startswith(("g6f.", "gr6f.")))


def test_p6_b300_is_refused_because_the_autoscaler_cannot_know_its_shape() -> None:
    assert why_not_accepted("p6-b300.48xlarge", gpu=True).startswith(
        "the autoscaler's instance list has no such type (close: p6-b200.48xlarge"
    )
    assert "p6-b300: NVIDIA B300: the AL2023 NVIDIA AMI supports it, but the autoscaler's" in (
        why_not_accepted("p6-b300.48xlarge", gpu=True)
    )
