"""The instance catalog against its data: every verdict follows from EC2's instance data (read here
from moto itself) and the family table, each accepted type has exactly EC2's shape, and nothing
the data does not list is accepted."""

from __future__ import annotations

import gzip
import json
from importlib import metadata
from pathlib import Path
from typing import Any

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
from cluster_config.ec2_instance_types import MOTO_INSTANCE_TYPES
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

MOTO: dict[str, dict[str, Any]] = json.loads(
    gzip.decompress(
        Path(str(metadata.distribution("moto").locate_file(MOTO_INSTANCE_TYPES))).read_bytes()
    )
)
"""EC2 DescribeInstanceTypes as the installed moto ships it, read without the project's code."""

ALLOWED_GPU = (
    "allowed: a g4dn, g5, g6, g6e, g7e, gr6, p3dn, p4d, p4de, p5, p5e, p5en, p6-b200, p6-b300 "
    "type listed in cluster_config/data/ec2-instance-types.tsv"
)


def family(name: str) -> str:
    return name.split(".")[0]


def moto_gpus(info: dict[str, Any]) -> int:
    return sum(g.get("Count", 0) for g in info.get("GpuInfo", {}).get("Gpus", []))


def system_config(types: list[str]) -> object:
    system = default_data()["system_node_group"] | {"instance_types": types}
    return config_with({"system_node_group": system})


def gpu_config(types: list[str]) -> object:
    pools = default_data()["gpu_pools"]
    pools[0]["instance_types"] = types
    return config_with({"gpu_pools": pools})


def test_the_catalog_holds_every_type_of_ec2_s_data_with_its_exact_shape() -> None:
    # Catches a catalog built from another list (the autoscaler's static one) or figures that
    # drift from EC2's: the autoscaler's template node uses EC2's (aws_util.go
    # transformInstanceType).
    assert len(MOTO) > 1000
    assert set(ALL_INSTANCE_TYPES) == set(MOTO)
    for name, shape in ALL_INSTANCE_TYPES.items():
        info = MOTO[name]
        first = info["ProcessorInfo"]["SupportedArchitectures"][0]
        arch = "arm64" if first == "arm64" else "amd64"
        expected = (
            info["VCpuInfo"]["DefaultVCpus"],
            info["MemoryInfo"]["SizeInMiB"],
            moto_gpus(info),
            arch,
            info["NetworkInfo"].get("EfaInfo", {}).get("MaximumEfaInterfaces", 0),
            info["NetworkInfo"]["MaximumNetworkCards"],
        )
        got = (
            shape.vcpus,
            shape.memory_mib,
            shape.gpus,
            shape.architecture,
            shape.max_efa_interfaces,
            shape.network_cards,
        )
        assert got == expected, name


def test_verdicts_follow_from_ec2_s_data_and_the_family_table_alone() -> None:
    # Recomputed here from moto's JSON and instance-families.tsv: any other input to a verdict
    # (the autoscaler's static list, a hand-kept type list) would make the sets differ.
    def use(name: str) -> str | None:
        facts = INSTANCE_FAMILIES.get(family(name))
        return facts.use if facts else None

    def x86(info: dict[str, Any]) -> bool:
        return "x86_64" in info["ProcessorInfo"]["SupportedArchitectures"]

    others = ("InferenceAcceleratorInfo", "NeuronInfo", "FpgaInfo", "MediaAcceleratorInfo")
    gpu = {
        n
        for n, i in MOTO.items()
        if x86(i)
        and moto_gpus(i) > 0
        and i["GpuInfo"]["Gpus"][0]["Manufacturer"] == "NVIDIA"
        and not any(k in i for k in others)
        and use(n) == "gpu"
    }
    general = {
        n
        for n, i in MOTO.items()
        if x86(i) and "GpuInfo" not in i and not any(k in i for k in others) and use(n) is None
    }
    assert set(GPU_INSTANCE_TYPES) == gpu
    assert set(GENERAL_INSTANCE_TYPES) == general
    assert not (DATA / "ca-ec2-instance-types.tsv").exists()


def test_types_missing_from_the_autoscaler_s_static_list_are_accepted_by_ec2_and_ami() -> None:
    # Bug caught: p5e/p6-b300 refused because cloudprovider/aws/ec2_instance_types.go (2026-01-22)
    # lacks them, though a running autoscaler reads DescribeInstanceTypes.
    p5e = GPU_INSTANCE_TYPES["p5e.48xlarge"]
    assert (p5e.vcpus, p5e.memory_mib, p5e.gpus) == (192, 2 * 1024 * 1024, 8)
    assert (p5e.gpu_model, p5e.gpu_memory_gb) == ("nvidia-h200", 141)
    assert (p5e.efa_supported, p5e.max_efa_interfaces, p5e.network_cards) == (True, 32, 32)
    assert p5e.efa_cards == tuple(range(32))
    b300 = GPU_INSTANCE_TYPES["p6-b300.48xlarge"]
    assert (b300.vcpus, b300.memory_mib, b300.gpus) == (192, 4 * 1024 * 1024, 8)
    assert (b300.gpu_model, b300.gpu_memory_gb) == ("nvidia-b300", 268)
    # 17 network cards, EFA on cards 1-16 only (card 0 takes plain interfaces).
    assert (b300.max_efa_interfaces, b300.network_cards) == (16, 17)
    assert b300.efa_cards == tuple(range(1, 17))


def test_accepted_gpu_types_carry_the_family_s_model_and_memory() -> None:
    for name, shape in GPU_INSTANCE_TYPES.items():
        facts = INSTANCE_FAMILIES[family(name)]
        assert (shape.architecture, facts.use) == ("amd64", "gpu"), name
        assert shape.gpus > 0, name
        assert (shape.gpu_model, shape.gpu_memory_gb) == (facts.accelerator, facts.gpu_memory_gb)


def test_published_gpu_memory_agrees_with_ec2_s_figure() -> None:
    # The table's GB (the label value) against EC2's MiB per GPU, read as GiB or as GB (AWS
    # publishes some in each): catches a typo or a family given another model's memory.
    for name in GPU_INSTANCE_TYPES:
        table = INSTANCE_FAMILIES[family(name)].gpu_memory_gb
        mib = MOTO[name]["GpuInfo"]["Gpus"][0]["MemoryInfo"]["SizeInMiB"]
        assert table is not None
        as_gib, as_gb = mib / 1024, mib * 1024 * 1024 / 1e9
        assert min(abs(as_gib - table), abs(as_gb - table)) <= 0.01 * table, (name, table, mib)


def test_system_types_have_no_gpu_or_other_accelerator() -> None:
    for name, shape in GENERAL_INSTANCE_TYPES.items():
        assert (shape.gpus, shape.architecture) == (0, "amd64"), name
        assert family(name) not in INSTANCE_FAMILIES, name
    for refused in ("inf2.xlarge", "trn1.2xlarge", "f2.6xlarge", "g6f.xlarge", "m6g.large"):
        assert refused in MOTO and refused not in GENERAL_INSTANCE_TYPES, refused


def test_g6e_12xlarge_has_four_gpus_and_384_gib() -> None:
    shape = GPU_INSTANCE_TYPES["g6e.12xlarge"]
    assert (shape.vcpus, shape.memory_mib, shape.gpus) == (48, 384 * 1024, 4)
    assert (shape.gpu_model, shape.gpu_memory_gb) == ("nvidia-l40s", 48)
    assert gpu_count(["g6e.12xlarge"]) == 4


def test_memory_is_kept_in_exact_mib() -> None:
    # 1740 MiB is not a whole GiB: rounding would invent a shape the autoscaler does not use.
    assert ALL_INSTANCE_TYPES["c1.medium"].memory_mib == 1740


def test_accelerator_values_are_the_autoscalers_where_it_knows_the_model() -> None:
    for fam in ("g4dn", "g5", "g6", "g6e", "p3dn", "p4d"):
        assert INSTANCE_FAMILIES[fam].accelerator in AUTOSCALER_GPU_TYPES, fam


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
    (problem,) = caught.value.problems
    assert (problem.code, problem.path) == (
        "InstanceTypeNotSupported",
        "system_node_group.instance_types.0",
    )
    assert problem.message.startswith(
        "'c5.8xlarge' is not a supported non-GPU instance "
        "type: EC2's instance-type data (moto 5.2.5, generated "
    )
    assert problem.message.endswith(
        ") has no such type; c5 sizes: large, xlarge, 2xlarge, 4xlarge, 9xlarge, 12xlarge, "
        "18xlarge, 24xlarge, metal; allowed: an x86_64 type without GPU or other accelerator "
        "listed in cluster_config/data/ec2-instance-types.tsv"
    )


def test_p3_2xlarge_is_refused_because_ec2_no_longer_lists_it() -> None:
    # Bug caught: p3.2xlarge accepted by the config (the autoscaler's 2026-01 list has it), then
    # failing the zones check in every region. The reason names EC2's data and its date.
    assert "p3.2xlarge" not in MOTO
    with pytest.raises(ConfigError) as caught:
        gpu_config(["p3.2xlarge"])
    (problem,) = caught.value.problems
    assert problem.code == "InstanceTypeNotSupported"
    message = problem.message
    assert "'p3.2xlarge' is not a supported GPU instance type: EC2's instance-type data" in message
    assert f"(moto {metadata.version('moto')}, generated 20" in message
    assert ") does not list it (close: p3dn.24xlarge" in message
    assert "autoscaler" not in message
    assert message.endswith(ALLOWED_GPU)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("p2.xlarge", "EC2's instance-type data (moto "),
        ("g5g.xlarge", "g5g is not usable here: arm64"),
        ("g4ad.xlarge", "EC2's instance-type data (moto "),
        ("g6f.xlarge", "g6f is not usable here: fractional NVIDIA L4"),
        ("g7.2xlarge", "g7 is not usable here: NVIDIA RTX PRO 4500 needs driver 595"),
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
    assert problems[0].endswith(ALLOWED_GPU + " [InstanceTypeNotSupported]")
    assert len(problems[0]) < 480  # names families, never the thousand types


def test_every_accepted_gpu_type_builds_a_config() -> None:
    for name in GPU_INSTANCE_TYPES:
        config = gpu_config([name])
        assert node_group_specs(config).gpu_instance_types == (name,)  # type: ignore[arg-type]


def test_an_unknown_system_type_is_refused_with_close_matches() -> None:
    reason = why_not_accepted("m7x.large", gpu=False)
    assert reason.startswith("EC2's instance-type data (moto ")
    assert ") does not list it (close: " in reason


# EKS user guide, "Use EKS-optimized accelerated AMIs for GPU instances", row "AL2023 x86_64
# NVIDIA" (docs.aws.amazon.com/eks/latest/userguide/ml-eks-optimized-ami.html, read 2026-12).
AL2023_NVIDIA_AMI_FAMILIES = (
    *("p6-b300", "p6-b200", "p5", "p5e", "p5en", "p4d", "p4de", "p3", "p3dn"),
    *("g7e", "gr6", "g6", "g6e", "g6f", "gr6f", "g5", "g4dn"),
)


def test_every_family_of_the_al2023_nvidia_ami_is_accepted_or_refused_with_its_reason() -> None:
    accepted = {f for f in AL2023_NVIDIA_AMI_FAMILIES if f in GPU_FAMILIES}
    assert accepted == {
        *("p6-b300", "p6-b200", "p5", "p5e", "p5en", "p4d", "p4de", "p3dn"),
        *("g7e", "gr6", "g6", "g6e", "g5", "g4dn"),
    }
    refused = sorted(set(AL2023_NVIDIA_AMI_FAMILIES) - accepted)
    # p3: EC2's data lists no p3 type; g6f, gr6f: EC2 gives 0 whole GPUs, so a template node at
    # zero would have none.
    assert refused == ["g6f", "gr6f", "p3"]
    assert not any(family(n) == "p3" for n in MOTO)
    assert all(moto_gpus(MOTO[n]) == 0 for n in MOTO if family(n) in ("g6f", "gr6f"))
    expected = (
        *("g4dn", "g5", "g6", "g6e", "g7e", "gr6"),
        *("p3dn", "p4d", "p4de", "p5", "p5e", "p5en", "p6-b200", "p6-b300"),
    )
    assert expected == GPU_FAMILIES
