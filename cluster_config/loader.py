"""Loads the config: defaults from ``cdk.json`` context, overridden by a user file, validated.

Every problem is collected into one ``ConfigError`` (``cluster_config.problems``): the fields'
own checks (``cluster_config.fields``, the model) and every rule across fields
(``cluster_config.rules``) run in one pass, so a user fixes a config in one round.
"""

from __future__ import annotations

import copy
import stat
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from cluster_config.fields import check_fields, field_path
from cluster_config.model import ClusterConfig
from cluster_config.problems import ConfigError, Problem, clip
from cluster_config.rules import rule_problems
from cluster_config.strict_yaml import RefusedValue, StrictYamlError, load_strict_yaml

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
    file_problems: list[Problem] = []
    if config_path is not None:
        override, file_problems = _read_override(config_path)
        data = merge_override(data, override)
    return validate_config(data, file_problems)


def validate_config(
    data: Mapping[str, Any], file_problems: Sequence[Problem] = ()
) -> ClusterConfig:
    """The config, once every field's check and every rule holds; otherwise a ``ConfigError``
    with every problem found (rules whose input failed its own check are skipped).

    ``file_problems``: what reading the file found that left it readable (a refused YAML tag, a
    repeated key); a value whose tag was refused is invalid like a field that failed its check,
    and reported once, by its ``YamlTag``, not again as a wrong type."""
    config, problems = check_fields(ClusterConfig, data)
    fields_valid = not problems
    if file_problems:
        refused = {field_path(loc) for loc in _refused_locations(data)}
        problems = [p for p in problems if not _under(p, refused)]
    problems = [*file_problems, *problems, *rule_problems(config, fields_valid=fields_valid)]
    if problems:
        raise ConfigError(problems)
    return config


def _refused_locations(value: Any, loc: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Where ``value`` holds a value whose YAML tag was refused (the strict loader bounds the
    nesting and the values aliases expand to, so this walk is bounded too)."""
    if isinstance(value, RefusedValue):
        yield loc
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from _refused_locations(item, (*loc, key))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _refused_locations(item, (*loc, i))


def _under(problem: Problem, refused: set[str]) -> bool:
    """A problem of a refused value itself (an unknown key holding one is still reported)."""
    if problem.code in ("UnknownKey", "MovedKey"):
        return False
    return any(problem.path == path or problem.path.startswith(f"{path}.") for path in refused)


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


def _read_override(config_path: str) -> tuple[dict[str, Any], list[Problem]]:
    """The file's mapping and the problems reading it found that left it readable."""
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

    def problem(error: StrictYamlError) -> Problem:
        where = f" {error.where}" if error.where else ""
        return Problem(error.code, error.path, f"{shown}{where}: {error.problem}")

    try:
        loaded, found = load_strict_yaml(text)
    except StrictYamlError as error:
        raise ConfigError([*map(problem, error.earlier), problem(error)]) from None
    problems = list(map(problem, found))
    if loaded is None:
        return {}, problems
    if isinstance(loaded, RefusedValue):  # the whole document's tag, reported already
        raise ConfigError(problems)
    if not isinstance(loaded, dict):
        raise ConfigError(
            [
                *problems,
                Problem(
                    "ConfigFile",
                    "config",
                    f"{shown} holds a {type(loaded).__name__}; allowed: a mapping of fields",
                ),
            ]
        )
    return loaded, problems
