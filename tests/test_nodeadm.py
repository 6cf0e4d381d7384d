"""What an AL2023 node's kubelet offers (aws_rules/nodeadm.py), against nodeadm's numbers."""

from __future__ import annotations

import pytest

from aws_rules.nodeadm import (
    ROOT_FILESYSTEM_OVERHEAD_MIB,
    allocatable_cpu_millicores,
    allocatable_ephemeral_storage_bytes,
    allocatable_memory_mib,
    cpu_quantity,
    ephemeral_storage_quantity,
    kube_reserved_cpu_millicores,
    kube_reserved_memory_mib,
    max_pods,
    memory_quantity,
    standard_max_pods,
)
from cluster_config.catalog import GPU_INSTANCE_TYPES
from verify.autoscaler_model import parse_quantity


def test_the_default_gpu_disk_offers_about_88_gib() -> None:
    # Worked by hand: 100 GiB = 102400 MiB less our 512 MiB filesystem allowance = 101888 MiB
    # capacity; less kube-reserved 1 GiB (1024) and the kubelet's nodefs.available<10% hard
    # eviction (10188.8): 90675.2, rounded down to a whole MiB.
    assert ephemeral_storage_quantity(100) == "90675Mi"


@pytest.mark.parametrize(
    ("vcpus", "millicores"),
    # EKS documentation's table for getCPUMillicoresToReserve: 1, 2, 4, 8, 16, 32, 64 cores
    [(1, 60), (2, 70), (4, 80), (8, 90), (16, 110), (32, 150), (64, 230)],
)
def test_cpu_reserved_follows_nodeadm(vcpus: int, millicores: int) -> None:
    assert kube_reserved_cpu_millicores(vcpus) == millicores


@pytest.mark.parametrize(
    ("max_pods_", "reserved_mib"),
    # nodeadm's own end-to-end vectors (v20260724, nodeadm/test/e2e/cases/*/
    # expected-kubelet-config.json: maxPods -> kubeReserved.memory): kubelet-config-dir 58,
    # kubelet-config-new-instance-type 110, custom-max-pods-expression 44
    [(58, 893), (110, 1465), (44, 739)],
)
def test_memory_reserved_follows_nodeadm(max_pods_: int, reserved_mib: int) -> None:
    assert kube_reserved_memory_mib(max_pods_) == reserved_mib


@pytest.mark.parametrize(
    ("capacity_kib", "observed_allocatable"),
    [
        # awslabs/amazon-eks-ami PR #1126: 20 GB root, df 20959212 1K-blocks, kubeReserved 1Gi
        (20959212, 18242267924),
    ],
)
def test_allocatable_matches_a_real_node(capacity_kib: int, observed_allocatable: int) -> None:
    assert (
        abs(allocatable_ephemeral_storage_bytes(capacity_kib * 1024) - observed_allocatable) < 1024
    )


def test_the_overhead_allowance_covers_the_observed_filesystem_loss() -> None:
    observed_loss_mib = (20 * 1024 * 1024 - 20959212) / 1024  # 12 MiB on a 20 GiB root
    assert observed_loss_mib < ROOT_FILESYSTEM_OVERHEAD_MIB


@pytest.mark.parametrize(
    ("enis", "ips", "expected"),
    # awslabs/amazon-eks-ami nodeadm/internal/kubelet/eni_max_pods_test.go TestCalcMaxPods
    [(3, 6, 17), (6, 12, 68)],
)
def test_max_pods_follows_calc_max_pods(enis: int, ips: int, expected: int) -> None:
    assert standard_max_pods(enis, ips) == expected


@pytest.mark.parametrize(
    ("instance_type", "expected"),
    # ENIs x (IPv4 per ENI - 1) + 2 over instance-info.jsonl: 4 x 14 + 2 and 3 x 9 + 2
    [
        ("g5.xlarge", 58),
        ("g6.xlarge", 58),
        ("g4dn.xlarge", 29),
        ("m5.large", 29),
        # types nodeadm does not list: AL2's eni-max-pods.txt values
        ("p3.2xlarge", 58),
        ("p3.8xlarge", 234),
        ("p3.16xlarge", 234),
    ],
)
def test_max_pods_of_instance_types(instance_type: str, expected: int) -> None:
    assert max_pods(instance_type) == expected


def test_every_gpu_type_a_pool_may_use_has_max_pods() -> None:
    assert all(max_pods(t) > 0 for t in GPU_INSTANCE_TYPES)


def test_an_instance_type_nodeadm_does_not_list_is_not_guessed() -> None:
    with pytest.raises(KeyError):
        max_pods("g9.xlarge")


def test_allocatable_cpu_and_memory() -> None:
    assert allocatable_cpu_millicores(4) == 3920
    # 15565 MiB reported, kube-reserved 11 * 58 + 255 = 893 MiB, eviction 100 MiB
    assert allocatable_memory_mib(15565, "g5.xlarge") == 15565 - 893 - 100


def test_template_cpu_and_memory_are_what_the_kubelet_offers() -> None:
    assert cpu_quantity(4) == "3920m"
    assert cpu_quantity(48) == "47810m"  # 60 + 10 + 10 + 44 x 2.5 millicores reserved
    # 16384 MiB x 94% = 15400 MiB reported, less 893 MiB kube-reserved and 100 MiB eviction
    assert memory_quantity(16384, ("g5.xlarge", "g6.xlarge")) == "14407Mi"
    # the type with more pods reserves more: g4dn.xlarge 29 pods, g5.xlarge 58
    assert memory_quantity(16384, ("g4dn.xlarge", "g5.xlarge")) == "14407Mi"
    assert parse_quantity(memory_quantity(16384, ("g5.xlarge",))) == 14407 * 2**20
