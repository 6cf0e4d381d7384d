"""Loads the config: defaults from ``cdk.json`` context, overridden by a user file, validated.

Every problem is collected into one ``ConfigError`` (``cluster_config.problems``): the fields'
own checks (``cluster_config.fields``, the model) and every rule across fields
(``cluster_config.rules``) run in one pass, so a user fixes a config in one round.
"""

from __future__ import annotations

import copy
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cluster_config.fields import check_fields
from cluster_config.model import ClusterConfig
from cluster_config.problems import ConfigError, Problem, clip
from cluster_config.rules import rule_problems
from cluster_config.strict_yaml import StrictYamlError, load_strict_yaml

MAX_CONFIG_BYTES = 64 * 1024
"""A config file is a few KiB; anything larger is a mistake (or an attack), refused unread."""

__all__ = ["ConfigError", "load_config", "merge_override", "validate_config"]


def load_config(defaults: Any, config_path: str | None = None) -> ClusterConfig:
    """Validate ``defaults`` (the ``cluster`` context of cdk.json) overridden by ``config_path``.

    Mappings merge key by key; any other value (lists included) replaces the default whole.
    """
    if not isinstance(defaults, Mapping):
        raise ConfigError(
            [
                Problem(
                    "NoDefaults", "config", "cdk.json context 'cluster': missing or not a mapping"
                )
            ]
        )
    data = copy.deepcopy(dict(defaults))
    if config_path is not None:
        data = merge_override(data, _read_override(config_path))
    return validate_config(data)


def validate_config(data: Mapping[str, Any]) -> ClusterConfig:
    """The config, once every field's check and every rule holds; otherwise a ``ConfigError``
    with every problem found (rules whose input failed its own check are skipped)."""
    config, problems = check_fields(ClusterConfig, data)
    problems += rule_problems(config, fields_valid=not problems)
    if problems:
        raise ConfigError(problems)
    return config


def merge_override(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """``base`` overridden by ``override`` as ``-c config=PATH`` overrides the defaults:
    mappings merge key by key, anything else (lists included) replaces the base value."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = merge_override(merged[key], value)
        else:
            merged[key] = value
    return merged


def _error(message: str) -> ConfigError:
    return ConfigError([Problem("ConfigFile", "config", message)])


def _read_override(config_path: str) -> dict[str, Any]:
    shown = repr(clip(config_path, 200))
    if not config_path:
        raise _error("-c config= is empty; allowed: the path of a YAML or JSON file")
    try:
        mode = Path(config_path).stat().st_mode
    except FileNotFoundError:
        raise _error(f"file {shown} does not exist") from None
    except OSError as error:
        raise _error(f"cannot read {shown}: {error.strerror}") from None
    if stat.S_ISDIR(mode):
        raise _error(f"{shown} is a directory; allowed: a YAML or JSON file")
    if not stat.S_ISREG(mode):
        raise _error(f"{shown} is not a regular file (a pipe, socket or device); allowed: a file")
    try:
        with open(config_path, "rb") as handle:
            raw = handle.read(MAX_CONFIG_BYTES + 1)
    except OSError as error:
        raise _error(f"cannot read {shown}: {error.strerror}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise _error(
            f"{shown} is larger than {MAX_CONFIG_BYTES // 1024} KiB; a config is a few KiB"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise _error(f"{shown} is not UTF-8 text (byte {error.start}); save it as UTF-8") from None
    try:
        loaded = load_strict_yaml(text)
    except StrictYamlError as error:
        where = f" {error.where}" if error.where else ""
        raise ConfigError(
            [Problem(error.code, error.path, f"{shown}{where}: {error.problem}")]
        ) from None
    if loaded is None:
        return {}
    if not isinstance(loaded, dict):
        raise _error(f"{shown} holds a {type(loaded).__name__}; allowed: a mapping of fields")
    return loaded
