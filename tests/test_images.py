"""An image registry mirror: every image the project deploys comes from it, digests kept."""

from __future__ import annotations

from typing import Any

import pytest

from cluster_config.images import image_reference, repository_of
from tests.support import charts_for, config_with
from tests.test_config import codes_of

MIRROR = "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/mirror"


def images(config_overrides: dict[str, Any]) -> list[str]:
    """Every container image of every chart the config deploys."""
    found = []
    for chart in charts_for(config_with(config_overrides)).by_file_name().values():
        for obj in chart.to_json():
            # a workload's pod template, or a PodTemplate object's (warm capacity)
            template = obj.get("spec", {}).get("template") or obj.get("template") or {}
            spec = template.get("spec", {})
            found += [
                c["image"] for c in spec.get("containers", []) + spec.get("initContainers", [])
            ]
    return found


WARM_POOL = {"name": "warm", "instance_types": ["g6.xlarge"], "warm_nodes": 1}


@pytest.mark.parametrize(
    ("kubernetes_version", "images_at_least"),
    # 1.36: the warm pool's CapacityBuffer PodTemplate; 1.33: its pause-pod Deployment
    [("1.36", 4), ("1.33", 4)],
)
def test_every_image_comes_from_the_mirror_with_its_digest_kept(
    kubernetes_version: str, images_at_least: int
) -> None:
    """Catches: an image (e.g. the warm-capacity pause image) left on its own registry."""
    pools = [*config_with({}).model_dump(mode="json")["gpu_pools"], WARM_POOL]
    overrides = {"kubernetes_version": kubernetes_version, "gpu_pools": pools}
    plain = images(overrides)
    mirrored = images(overrides | {"image_registry_mirror": MIRROR})
    # the device plugin, the autoscaler, the smoke test, the pause image
    assert len(plain) >= images_at_least
    assert any("/pause:" in image for image in plain)
    assert mirrored == [f"{MIRROR}/{image}" for image in plain]
    assert sum("@sha256:" in image for image in mirrored) == sum("@sha256:" in i for i in plain)


def test_without_a_mirror_images_come_from_their_own_registries() -> None:
    assert all(i.startswith(("nvcr.io/", "registry.k8s.io/", "docker.io/")) for i in images({}))


@pytest.mark.parametrize(
    "mirror", [MIRROR, "registry.example.com", "mirror.internal:5000/k8s", "harbor.example.cn/a/b"]
)
def test_registry_hosts_with_port_and_path_are_accepted(mirror: str) -> None:
    assert config_with({"image_registry_mirror": mirror}).image_registry_mirror == mirror


@pytest.mark.parametrize(
    "mirror",
    [
        "https://registry.example.com",
        "registry.example.com/",
        "Registry.Example.com",
        "registry.example.com/mirror:v1",
        "registry.example.com//mirror",
        "",
        "r" * 201,
    ],
)
def test_what_cannot_prefix_an_image_reference_is_refused(mirror: str) -> None:
    assert codes_of({"image_registry_mirror": mirror}) == [
        ("RegistryMirror", "image_registry_mirror")
    ]


def test_a_mirrored_reference_keeps_its_repository_readable() -> None:
    reference = image_reference(
        "nvcr.io/nvidia/k8s-device-plugin", "v0.20.0", "sha256:ab", registry_mirror="m:5000/x"
    )
    assert reference == "m:5000/x/nvcr.io/nvidia/k8s-device-plugin:v0.20.0@sha256:ab"
    assert repository_of(reference) == "m:5000/x/nvcr.io/nvidia/k8s-device-plugin"
    assert repository_of("m:5000/x") == "m:5000/x"
