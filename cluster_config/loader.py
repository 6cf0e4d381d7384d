"""Loads the config: defaults from ``cdk.json`` context, overridden by a user file, validated.

Every problem is collected into one ``ConfigError`` whose lines read
``<field path>: <what is wrong> (got: <value>)``, so a user fixes a config in one pass.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from cluster_config.model import RULE_VIOLATIONS, ClusterConfig

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
    "node_ami_release_version": "must be an EKS AMI release version such as '1.36.0-20261120'",
    "labels": "must be a Kubernetes label (key: [prefix/]name; value: up to 63 of [-A-Za-z0-9_.])",
}


class ConfigError(Exception):
    """A config that cannot be deployed; ``problems`` holds one line per broken rule."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))

    def report(self) -> str:
        lines = "\n".join(f"  - {p}" for p in self.problems)
        return f"Invalid cluster config ({len(self.problems)} problem(s)):\n{lines}"


def load_config(defaults: Any, config_path: str | None = None) -> ClusterConfig:
    """Validate ``defaults`` (the ``cluster`` context of cdk.json) overridden by ``config_path``.

    Mappings merge key by key; any other value (lists included) replaces the default whole.
    """
    if not isinstance(defaults, Mapping):
        raise ConfigError(["cdk.json context 'cluster': missing or not a mapping of defaults"])
    data = copy.deepcopy(dict(defaults))
    if config_path is not None:
        data = _merge(data, _read_override(config_path))
    return validate_config(data)


def validate_config(data: Mapping[str, Any]) -> ClusterConfig:
    try:
        return ClusterConfig.model_validate(data)
    except ValidationError as error:
        raise ConfigError(_describe(error)) from None


def _read_override(config_path: str) -> dict[str, Any]:
    path = Path(config_path)
    if not path.is_file():
        raise ConfigError([f"config: file {config_path!r} does not exist"])
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError([f"config: {config_path!r} is not valid YAML or JSON: {error}"]) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise ConfigError(
            [
                f"config: {config_path!r} holds a {type(loaded).__name__}; "
                "allowed: a mapping of fields"
            ]
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
            allowed = _allowed_keys(loc[:-1])
            message = f"unknown key; allowed: {', '.join(allowed)}" if allowed else "unknown key"
        elif item["type"] == "string_pattern_mismatch":
            message = _hint(loc) or message
        if item["type"] == "too_short" and _long_enough(item):
            continue  # its items failed (reported on their own), not the list's length
        if item["type"] == "missing":
            problems.append(f"{path}: required field is missing")
            continue
        problems.append(f"{path}: {message} (got: {_show(item.get('input'))})")
    return problems


def _path(loc: list[Any]) -> str:
    """``a.0.b``; a mapping key that is not a plain name as ``labels["nvidia.com/x"]``; a bad
    key itself as ``tags key "x"``."""
    if "[key]" in loc:
        at = loc.index("[key]")
        return f"{_path(loc[: at - 1])} key {json.dumps(loc[at - 1])}"
    if not loc:
        return "config"
    text = str(loc[0])
    for part in loc[1:]:
        plain = isinstance(part, int) or re.fullmatch(r"[A-Za-z_]\w*", part)
        text += f".{part}" if plain else f"[{json.dumps(part)}]"
    return text


def _long_enough(item: Any) -> bool:
    value, minimum = item.get("input"), item.get("ctx", {}).get("min_length", 0)
    return isinstance(value, list | tuple) and len(value) >= minimum


def _hint(loc: list[Any]) -> str | None:
    for part in reversed(loc):
        if isinstance(part, str) and part in _PATTERN_HINTS:
            return _PATTERN_HINTS[part]
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
    try:
        text = json.dumps(value, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 120 else text[:117] + "..."
