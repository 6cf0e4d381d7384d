"""Image references of the charts, optionally pulled through a registry mirror.

``image_registry_mirror`` (a config field) puts every image this project deploys behind one
registry: ``<mirror>/<original registry>/<repository>:<tag>@<digest>``, e.g.
``123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/mirror/nvcr.io/nvidia/k8s-device-plugin``.
The original registry stays in the path, so images of two registries cannot collide, and an ECR
pull-through cache rule (or any mirror) can be set up per upstream registry. The digest is kept:
a mirror serves the same image content, so the pin still holds.
"""

from __future__ import annotations

import re

# distribution/reference (github.com/distribution/reference, regexp.go, v0.6): a domain of
# dot-separated components (letters, digits, inner '-') with an optional port, then path
# components of lower-case letters and digits joined by '.', '_', '__' or '-'. Upper case is
# refused here (a registry host is case-insensitive; lower case avoids two spellings).
_DOMAIN = (
    r"(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?"
)
_PATH = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
REGISTRY_MIRROR = re.compile(rf"{_DOMAIN}(?:/{_PATH})*")
MAX_MIRROR_LENGTH = 200
"""Leaves room for the longest image path under the 255 characters a reference may have."""


def registry_mirror_problem(mirror: str) -> str | None:
    """Why ``mirror`` cannot prefix an image reference, or None."""
    if "://" in mirror:
        return (
            "give the registry host (and path) without a scheme, e.g. 'registry.example.com/mirror'"
        )
    if len(mirror) > MAX_MIRROR_LENGTH or not REGISTRY_MIRROR.fullmatch(mirror):
        return (
            "must be a registry host with an optional port and path, lower case, no tag and no "
            f"trailing '/', at most {MAX_MIRROR_LENGTH} characters, e.g. "
            "'123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/mirror'"
        )
    return None


def image_reference(
    repository: str, tag: str, digest: str | None = None, *, registry_mirror: str | None = None
) -> str:
    """``repository:tag[@digest]``, under ``registry_mirror`` when one is given."""
    prefix = f"{registry_mirror}/" if registry_mirror else ""
    pinned = f"@{digest}" if digest else ""
    return f"{prefix}{repository}:{tag}{pinned}"


def repository_of(reference: str) -> str:
    """``nvcr.io/nvidia/k8s-device-plugin`` of a reference, its mirror prefix kept."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)
    if ":" in last[-1]:
        name = name.rsplit(":", 1)[0]
    return name
