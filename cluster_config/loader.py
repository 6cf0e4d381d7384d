"""Loads the config: defaults from ``cdk.json`` context, overridden by a user file, validated.

Every problem is collected into one ``ConfigError`` whose lines read
``<field path>: <what is wrong> (got: <value>)``, so a user fixes a config in one pass.
"""

from __future__ import annotations

import copy
import difflib
import json
import re
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from cluster_config import aws_limits
from cluster_config.model import RULE_VIOLATIONS, ClusterConfig
from cluster_config.node_groups import node_group_specs
from cluster_config.strict_yaml import StrictYamlError, load_strict_yaml

MAX_CONFIG_BYTES = 64 * 1024
"""A config file is a few KiB; anything larger is a mistake (or an attack), refused unread."""
MAX_REPORTED_PROBLEMS = 30
SHOWN_VALUE_CHARS = 120

_UNION_TAGS = {"constrained-str", "str", "int", "bool", "none", "IPv4Network"}

_PATTERN_HINTS = {
    "cluster_name": "must start with a letter and hold only letters, digits and '-', at most 100",
    "name": "must be lower-case words of letters and digits joined by single '-', at most 56",
    "region": "must be an AWS region name such as 'us-west-2'",
    "account": "must be a 12-digit AWS account ID",
    "availability_zone": "must be an availability zone name such as 'us-west-2a' (zones a to f)",
    "availability_zones": "must be availability zone names such as 'us-west-2a' (zones a to f)",
    "admin_principal_arns": (
        "must be an IAM role or user ARN such as 'arn:aws:iam::123456789012:role/Admin'"
    ),
    "key_deletion_principal_arns": (
        "must be an IAM role or user ARN such as 'arn:aws:iam::123456789012:role/KeyAdmin'"
    ),
    "node_ami_release_version": "must be an EKS AMI release version such as '1.36.0-20261120'",
    "gpu_pools.name": (
        "must be lower-case words of letters and digits joined by single '-', at most 51"
    ),
    "labels": "must be a Kubernetes label (key: [prefix/]name; value: up to 63 of [-A-Za-z0-9_.])",
}


_BOUND_TYPES = {"less_than_equal", "greater_than_equal", "less_than", "greater_than"}
# Why a numeric bound is what it is, by field name.
_BOUND_REASONS = {
    "max_size": "EKS allows at most 450 nodes in a managed node group, an EKS service quota",
    "min_size": "EKS allows at most 450 nodes in a managed node group, an EKS service quota",
    "nat_gateways": "one NAT gateway per availability zone, and a cluster has at most 6 zones",
    "root_volume_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "gpu_root_volume_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "size_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "throughput_mibps": "EBS gp3 throughput is 125-2000 MiB/s",
    "iops": "EBS gp3 volumes have 3000-80000 IOPS",
    "image_size_gb": "an image size in GB for the cold-start budget",
    "scale_down_unneeded_minutes": "the autoscaler's --scale-down-unneeded-time, up to a day",
    "scale_down_delay_after_add_minutes": "the autoscaler's --scale-down-delay-after-add, "
    "up to a day",
    "max_node_provision_minutes": "the autoscaler's --max-node-provision-time: a GPU node needs "
    "about 5 minutes to join; beyond an hour a failed launch blocks scale-up too long",
    "scale_down_utilization_threshold": "a fraction of the node's requests",
    "scan_interval_seconds": "the autoscaler's --scan-interval (upstream 10s): below 1 s is "
    "no faster (a loop takes seconds), above 60 s a pending pod waits longer than the "
    "autoscaler's own 30 s SLO",
    "new_pod_scale_up_delay_seconds": "the autoscaler's --new-pod-scale-up-delay (upstream 0s), "
    "up to 10 minutes",
    "scale_down_gpu_utilization_threshold": "a fraction of the node's GPUs",
}


class ConfigError(Exception):
    """A config that cannot be deployed; ``problems`` holds one line per broken rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def report(self, subject: str = "cluster config") -> str:
        # Values are already cut (SHOWN_VALUE_CHARS); this only bounds a line of deep paths,
        # long enough for every list of allowed keys or zones.
        shown = [_clip(p, 1000) for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        more = len(self.problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown)
        if more:
            lines += f"\n  ... and {more} more"
        return f"Invalid {subject} ({len(self.problems)} problem(s)):\n{lines}"


def load_config(defaults: Any, config_path: str | None = None) -> ClusterConfig:
    """Validate ``defaults`` (the ``cluster`` context of cdk.json) overridden by ``config_path``.

    Mappings merge key by key; any other value (lists included) replaces the default whole.
    """
    if not isinstance(defaults, Mapping):
        raise ConfigError(["cdk.json context 'cluster': missing or not a mapping of defaults"])
    data = copy.deepcopy(dict(defaults))
    if config_path is not None:
        data = _merge(data, _read_override(config_path))
    try:
        return validate_config(data)
    except ConfigError as error:
        raise ConfigError(error.problems + _cross_field_problems(data, defaults, error)) from None


def validate_config(data: Mapping[str, Any]) -> ClusterConfig:
    """The config, once its fields and rules hold and so do the limits on what it generates
    (checked on its node-group specs, so only after the config itself is valid)."""
    try:
        config = ClusterConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None
    specs = node_group_specs(config).all
    problems = aws_limits.tag_budget_problems(
        len(config.tags),
        {s.name: len(s.node_template_tags) for s in specs},
        labels_field={
            s.name: f"{s.source.removesuffix('.on_demand_fallback')}.labels" for s in specs
        },
    )
    if problems:
        raise ConfigError(problems)
    return config


def _cross_field_problems(
    data: Mapping[str, Any], defaults: Mapping[str, Any], error: ConfigError
) -> list[str]:
    """The cluster-wide rules that a field error kept from running, where they can be known.

    pydantic runs a model's cross-field rules only once every field is valid, so a config with
    a bad field and a broken cross-field rule used to take two rounds to fix. Each top-level
    field with a problem is replaced by its default and the rules run again; a problem they
    find is kept only if it names none of the replaced fields (it then holds for the config as
    written).
    """
    replaced = {p.split(".", 1)[0].split(":", 1)[0].split("[", 1)[0] for p in error.problems}
    if not replaced or not replaced <= set(defaults) or not replaced <= set(data):
        return []
    try:
        validate_config({**data, **{key: defaults[key] for key in replaced}})
    except ConfigError as retry:
        return [
            p
            for p in retry.problems
            if p not in error.problems and not any(key in p for key in replaced)
        ]
    return []


def _read_override(config_path: str) -> dict[str, Any]:
    shown = repr(_clip(config_path, 200))
    if not config_path:
        raise ConfigError(["config: -c config= is empty; allowed: the path of a YAML or JSON file"])
    try:
        mode = Path(config_path).stat().st_mode
    except FileNotFoundError:
        raise ConfigError([f"config: file {shown} does not exist"]) from None
    except OSError as error:
        raise ConfigError([f"config: cannot read {shown}: {error.strerror}"]) from None
    if stat.S_ISDIR(mode):
        raise ConfigError([f"config: {shown} is a directory; allowed: a YAML or JSON file"])
    if not stat.S_ISREG(mode):
        raise ConfigError(
            [f"config: {shown} is not a regular file (a pipe, socket or device); allowed: a file"]
        )
    try:
        with open(config_path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise ConfigError([f"config: cannot read {shown}: {error.strerror}"]) from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            [
                f"config: {shown} is larger than {MAX_CONFIG_BYTES // 1024} KiB; "
                "a config is a few KiB"
            ]
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ConfigError(
            [f"config: {shown} is not UTF-8 text (byte {error.start}); save it as UTF-8"]
        ) from None
    try:
        loaded = load_strict_yaml(text)
    except StrictYamlError as error:
        where = f" {error.where}" if error.where else ""
        raise ConfigError([f"{error.path}: {shown}{where}: {error.problem}"]) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            [f"config: {shown} holds a {type(loaded).__name__}; allowed: a mapping of fields"]
        )
    return loaded


def _merge(base: dict[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = _merge(dict(merged[key]), value)
        else:
            merged[key] = value
    return merged


def _describe(error: ValidationError) -> list[str]:
    problems: list[str] = []
    for item in error.errors(include_url=False):
        loc = [part for part in item["loc"] if part not in _UNION_TAGS]
        path = _path(loc)
        message = item["msg"]
        if item["type"] == RULE_VIOLATIONS:
            prefix = f"{path}." if loc else ""
            problems.extend(prefix + line for line in message.splitlines())
            continue
        if item["type"] == "value_error":
            message = message.removeprefix("Value error, ")
        elif item["type"] == "extra_forbidden":
            message = _unknown_key(loc)
        elif item["type"] in _BOUND_TYPES:
            message = _with_reason(message, loc)
        elif item["type"] == "string_pattern_mismatch":
            message = _hint(loc) or message
        if item["type"] == "too_short" and _long_enough(item):
            continue  # its items failed (reported on their own), not the list's length
        if item["type"] == "missing":
            problems.append(f"{path}: required field is missing")
            continue
        problems.append(f"{path}: {message} (got: {_show(item.get('input'))})")
    return problems


# Keys of earlier releases, by what replaced them: too far apart for a spelling match.
_RENAMED_KEYS = {"gpu_node_groups": "gpu_pools"}
# Other tools' names for a group's bounds, at any level: "max_nodes" is closer to "warm_nodes"
# as spelled than to "max_size", which it means.
_OTHER_TOOLS_KEYS = {"max_nodes": "max_size", "min_nodes": "min_size"}


def _unknown_key(loc: list[Any]) -> str:
    """``unknown key``, the nearest valid key when one is close (a misspelling) or what replaced
    a renamed key, what is allowed."""
    allowed = _allowed_keys(loc[:-1])
    if not allowed:
        return "unknown key"
    renamed = _RENAMED_KEYS.get(str(loc[-1])) if len(loc) == 1 else None
    if _OTHER_TOOLS_KEYS.get(str(loc[-1])) in allowed:
        renamed = _OTHER_TOOLS_KEYS[str(loc[-1])]
    close = (
        [renamed] if renamed else difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.55)
    )
    hint = f" did you mean {close[0]!r}?" if close else ""
    return f"unknown key;{hint} allowed: {', '.join(allowed)}"


def _with_reason(message: str, loc: list[Any]) -> str:
    for part in reversed(loc):
        if isinstance(part, str) and part in _BOUND_REASONS:
            return f"{message}: {_BOUND_REASONS[part]}"
    return message


def _path(loc: list[Any]) -> str:
    """``a.0.b``; a mapping key that is not a plain name as ``labels["nvidia.com/x"]``; a bad
    key itself as ``tags key "x"``."""
    if "[key]" in loc:
        at = loc.index("[key]")
        return f"{_path(loc[: at - 1])} key {_show(loc[at - 1])}"
    if not loc:
        return "config"
    text = _clip(str(loc[0]), 64)
    for part in loc[1:]:
        plain = isinstance(part, int) or re.fullmatch(r"[A-Za-z_]\w*", str(part))
        text += f".{_clip(str(part), 64)}" if plain else f"[{_show(part)}]"
    return text


def _long_enough(item: Any) -> bool:
    value, minimum = item.get("input"), item.get("ctx", {}).get("min_length", 0)
    return isinstance(value, list | tuple) and len(value) >= minimum


def _hint(loc: list[Any]) -> str | None:
    for part in reversed(loc):
        if isinstance(part, str):
            hint = _PATTERN_HINTS.get(f"{loc[0]}.{part}") or _PATTERN_HINTS.get(part)
            if hint:
                return hint
    return None


def _allowed_keys(loc: list[Any]) -> list[str]:
    model: type[BaseModel] | None = ClusterConfig
    for part in loc:
        if isinstance(part, int) or model is None:
            continue
        field = model.model_fields.get(str(part))
        model = _model_in(field.annotation) if field else None
    return sorted(model.model_fields) if model else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    meta = getattr(annotation, "__origin__", None)
    return _model_in(meta) if meta is not None and meta is not annotation else None


def _show(value: Any) -> str:
    """``value`` as JSON-like text (non-ASCII as typed), cut at about ``SHOWN_VALUE_CHARS``.

    Walks only as much of ``value`` as it prints, so a huge or alias-expanded value costs
    nothing to show.
    """
    parts: list[str] = []
    _render(value, parts, SHOWN_VALUE_CHARS + 1, depth=0)
    return _clip("".join(parts), SHOWN_VALUE_CHARS)


def _render(value: Any, parts: list[str], budget: int, depth: int) -> int:
    """Appends text for ``value`` to ``parts`` until ``budget`` characters; returns what is left."""

    def add(text: str) -> int:
        parts.append(text[: max(budget, 0)])
        return budget - len(text)

    if budget <= 0:
        return budget
    if isinstance(value, Mapping | list | tuple) and depth > 8:
        return add("...")
    if isinstance(value, Mapping):
        budget = add("{")
        for i, (key, item) in enumerate(value.items()):
            if budget <= 0:
                break
            budget = add(", " if i else "")
            budget = _render(key if isinstance(key, str) else str(key), parts, budget, depth + 1)
            budget = add(": ")
            budget = _render(item, parts, budget, depth + 1)
        return add("}")
    if isinstance(value, list | tuple):
        budget = add("[")
        for i, item in enumerate(value):
            if budget <= 0:
                break
            budget = add(", " if i else "")
            budget = _render(item, parts, budget, depth + 1)
        return add("]")
    if isinstance(value, str):
        return add(json.dumps(value[:budget], ensure_ascii=False))
    if isinstance(value, bool) or value is None:
        return add(json.dumps(value))
    if isinstance(value, int) and value.bit_length() > 64:
        return add(f"<a number of about {int(value.bit_length() * 0.30103)} digits>")
    text = str(value)
    return add(text if isinstance(value, int | float) else json.dumps(text[:budget]))


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."
