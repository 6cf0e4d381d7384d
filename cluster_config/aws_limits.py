"""Limits that AWS, EKS and Kubernetes enforce at deploy time, checked before synth.

Each rule names the documentation (or upstream source) it follows, read in November 2026. These
are someone else's rules: a check here must refuse exactly what the named system would refuse.
The AWS rules that constructs check too (EKS's node group name, EBS's gp3 limits) are in
``aws_rules/``, which both sides import.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from datetime import date
from pathlib import Path

# --- Tags -------------------------------------------------------------------------------------
# EKS User Guide, "Tag your Amazon EKS resources", tag restrictions (also the Tagging AWS
# Resources user guide, "Tag naming limits and requirements"):
TAGS_PER_RESOURCE = 50  # "Maximum number of tags per resource: 50"
TAG_KEY_MAX = 128  # "Maximum key length: 128 Unicode characters in UTF-8"
TAG_VALUE_MAX = 256  # "Maximum value length: 256 Unicode characters in UTF-8"
RESERVED_TAG_PREFIX = "aws:"  # "Don't use aws:, AWS:, or any upper or lowercase combination"
_TAG_PUNCTUATION = frozenset(" _.:/=+-@")  # "letters, numbers, and spaces ... and + - = . _ : / @"

# Tags this project puts on a resource beside the user's `tags`, on the resource that carries the
# most of them (counted in a synthesized template by tests/test_aws_limits.py, so a new tag of
# our own makes that test fail until it is counted here):
PROJECT_TAGS_ON_SUBNET = 4
"""``Name``, ``aws-cdk:subnet-name``, ``aws-cdk:subnet-type``, ``kubernetes.io/role/elb`` (or
``internal-elb``)."""
# EKS tags each managed node group's Auto Scaling group with eks:cluster-name, eks:nodegroup-name,
# k8s.io/cluster-autoscaler/enabled and k8s.io/cluster-autoscaler/<cluster> (EKS User Guide,
# "Managed node groups"); the node-template tags come on top, and the ASG's limit is also 50.
EKS_TAGS_ON_ASG = 4


def tag_budget_problems(
    user_tags: int, node_template_tags: Mapping[str, int], *, labels_field: Mapping[str, str]
) -> list[tuple[str, str]]:
    """Where the user's ``tags`` plus this project's own exceed 50 on a resource: (field,
    message) pairs.

    ``node_template_tags``: group -> its autoscaler node-template tags, which sit on the
    ``AWS::EKS::Nodegroup`` (beside the user's tags, which CDK puts on every resource) and on its
    ASG (beside EKS's own); ``labels_field``: group -> the config field of its labels.
    """
    problems = []
    most = max(node_template_tags.values(), default=0)
    room = TAGS_PER_RESOURCE - max(PROJECT_TAGS_ON_SUBNET, most)
    if user_tags > room:
        problems.append(
            (
                "tags",
                f"{user_tags} tags, but this project adds up to {TAGS_PER_RESOURCE - room} of "
                "its own to a resource (subnet names, a GPU group's autoscaler node-template tags: "
                f"labels, taint, resources) and AWS allows {TAGS_PER_RESOURCE} per resource; "
                f"allowed: at most {max(room, 0)}",
            )
        )
    reported = set()
    for group, count in node_template_tags.items():
        field = labels_field[group]
        if EKS_TAGS_ON_ASG + count > TAGS_PER_RESOURCE and field not in reported:
            reported.add(field)
            allowed = TAGS_PER_RESOURCE - EKS_TAGS_ON_ASG
            problems.append(
                (
                    field,
                    f"group {group} would get {count} autoscaler node-template tags (one "
                    f"per label, taint and resource) on its Auto Scaling group beside "
                    f"{EKS_TAGS_ON_ASG} EKS tags, and AWS allows {TAGS_PER_RESOURCE}; allowed: at "
                    f"most {allowed} node-template tags, so {count - allowed} label(s) fewer",
                )
            )
    return problems


def tag_key_problem(key: str) -> str | None:
    """Why AWS would refuse ``key`` as a tag key, or None."""
    if key.lower().startswith(RESERVED_TAG_PREFIX):
        return "the aws: prefix is reserved for AWS; choose another key"
    if not 1 <= len(key) <= TAG_KEY_MAX:
        return f"tag key is {len(key)} characters; allowed: 1 to {TAG_KEY_MAX}"
    return _tag_characters_problem(key)


def tag_value_problem(value: str) -> str | None:
    """Why AWS would refuse ``value`` as a tag value, or None."""
    if len(value) > TAG_VALUE_MAX:
        return f"tag value is {len(value)} characters; allowed: at most {TAG_VALUE_MAX}"
    return _tag_characters_problem(value)


def _tag_characters_problem(text: str) -> str | None:
    bad = next((c for c in text if not _tag_character(c)), None)
    if bad is None:
        return None
    return (
        f"{bad!r} (U+{ord(bad):04X}) is not allowed in a tag; allowed: letters, digits, spaces "
        "and _ . : / = + - @"
    )


def _tag_character(char: str) -> bool:
    category = unicodedata.category(char)
    return category[0] in "LN" or category == "Zs" or char in _TAG_PUNCTUATION


# --- Managed node groups ----------------------------------------------------------------------
# (The node group name: aws_rules/eks.py NODEGROUP_NAME.)
# EKS API Reference, CreateNodegroup labels (and UpdateLabelsPayload): key and value length 1-63,
# stricter than Kubernetes (key up to 253 + 1 + 63, value may be empty). Syntax: Kubernetes,
# k8s.io/apimachinery pkg/util/validation/validation.go IsQualifiedName / IsValidLabelValue
# (v0.34): optional DNS-1123 subdomain prefix and "/", then a name of [A-Za-z0-9] at both ends and
# [-A-Za-z0-9_.] inside.
EKS_LABEL_MAX = 63
_DNS1123_LABEL = r"[a-z0-9]([-a-z0-9]*[a-z0-9])?"
_DNS1123_SUBDOMAIN = re.compile(rf"{_DNS1123_LABEL}(\.{_DNS1123_LABEL})*")
_QUALIFIED_NAME = re.compile(r"[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?")
K8S_NAME_MAX = 63  # validation.go qualifiedNameMaxLength
K8S_PREFIX_MAX = 253  # validation.go DNS1123SubdomainMaxLength
# EKS API Reference, Taint: key length 1-63, value 0-63, effect NO_SCHEDULE | NO_EXECUTE |
# PREFER_NO_SCHEDULE; at most 50 taints per node group (CreateNodegroup taints).
EKS_TAINT_VALUE_MAX = 63
EKS_TAINTS_PER_NODEGROUP = 50


def label_key_problem(key: str) -> str | None:
    """Why EKS (or the Kubernetes API server) would refuse ``key`` as a node label key."""
    if not 1 <= len(key) <= EKS_LABEL_MAX:
        return f"key is {len(key)} characters; EKS allows 1 to {EKS_LABEL_MAX}"
    prefix, slash, name = key.rpartition("/")
    if slash and not (len(prefix) <= K8S_PREFIX_MAX and _DNS1123_SUBDOMAIN.fullmatch(prefix)):
        return (
            "prefix before '/' must be a DNS subdomain (lower-case letters, digits, '-' and '.', "
            "alphanumeric at both ends of each part)"
        )
    if not (len(name) <= K8S_NAME_MAX and _QUALIFIED_NAME.fullmatch(name)):
        return (
            "name must be letters, digits, '-', '_' and '.', starting and ending with a letter "
            "or digit"
        )
    return None


def label_value_problem(value: str) -> str | None:
    """Why EKS would refuse ``value`` as a node label value (EKS requires 1 to 63)."""
    if not 1 <= len(value) <= EKS_LABEL_MAX:
        return f"value is {len(value)} characters; EKS allows 1 to {EKS_LABEL_MAX}"
    if not _QUALIFIED_NAME.fullmatch(value):
        return (
            "value must be letters, digits, '-', '_' and '.', starting and ending with a "
            "letter or digit"
        )
    return None


def taint_problem(key: str, value: str) -> str | None:
    """Why EKS would refuse a taint ``key=value`` (the key follows the label-key syntax)."""
    problem = label_key_problem(key)
    if problem is not None:
        return problem
    if value and not (len(value) <= EKS_TAINT_VALUE_MAX and _QUALIFIED_NAME.fullmatch(value)):
        return f"taint value must be empty or a label value of at most {EKS_TAINT_VALUE_MAX}"
    return None


# --- AMI release versions ---------------------------------------------------------------------
# EKS API Reference, CreateNodegroup releaseVersion and the EKS User Guide, "Retrieve recommended
# Amazon Linux AMI IDs" (release versions such as 1.36.0-20261120: <Kubernetes version>-<date>):
# the version must be an AMI release of the node group's Kubernetes minor.
_RELEASE_VERSION = re.compile(r"(?P<minor>[0-9]+\.[0-9]+)\.[0-9]+-(?P<date>[0-9]{8})")


def release_version_problem(release: str, kubernetes_minor: str) -> str | None:
    """Why EKS would refuse AMI release ``release`` for a group on ``kubernetes_minor``."""
    found = _RELEASE_VERSION.fullmatch(release)
    if found is None:
        return f"must look like '{kubernetes_minor}.0-20261120' (<Kubernetes version>-<date>)"
    if found["minor"] != kubernetes_minor:
        return (
            f"is a release for Kubernetes {found['minor']}, not kubernetes_version "
            f"{kubernetes_minor}; allowed: {kubernetes_minor}.x-YYYYMMDD"
        )
    try:
        date(int(found["date"][:4]), int(found["date"][4:6]), int(found["date"][6:]))
    except ValueError:
        return f"{found['date']} is not a date; allowed: {kubernetes_minor}.x-YYYYMMDD"
    return None


# --- Regions and partitions -------------------------------------------------------------------
# Data file with its source and date (botocore's endpoints.json); no network at synth.
_REGIONS_FILE = Path(__file__).parent / "data" / "regions.json"
REGION_PARTITIONS: dict[str, str] = json.loads(_REGIONS_FILE.read_text(encoding="utf-8"))["regions"]
"""Every public AWS region this project knows, mapped to its partition (``aws``, ``aws-cn``...)."""
# Partitions this app synthesizes in (aws and aws-cn in tests/test_config_corpus.py, aws-us-gov
# by hand with tests/config_corpus/good/g03-govcloud.json); the isolated partitions lack public
# documentation of the EKS add-ons and Lambda runtimes this app uses, so they are refused.
SUPPORTED_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot host this app, or None."""
    partition = REGION_PARTITIONS.get(region)
    if partition is None:
        return "no such AWS region; allowed: a region of cluster_config/data/regions.json"
    if partition not in SUPPORTED_PARTITIONS:
        allowed = ", ".join(SUPPORTED_PARTITIONS)
        return f"a region of partition {partition}; allowed: regions of {allowed}"
    return None


def arn_partition(arn: str) -> str:
    """``aws-cn`` of ``arn:aws-cn:iam::...``."""
    return arn.split(":", 2)[1]
