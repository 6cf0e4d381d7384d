"""Field checks: pydantic validates every field of the config; each error becomes a ``Problem``.

pydantic reports every field error in one pass but builds no model when any field fails, and the
rules across fields (``cluster_config.rules``) must still run on what is valid. So a config with
field errors is also built *partially* (``partial_config``): reading a valid field gives its
validated value, reading one that failed raises ``InvalidInput``, and the rule that read it is
skipped (it cannot know the answer) while every other rule runs.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any, NoReturn, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from cluster_config.problems import Problem, show, show_key

ModelT = TypeVar("ModelT", bound=BaseModel)


class InvalidInput(Exception):
    """Raised when a rule touches a field that failed its own check: the rule is skipped."""


def _refuse(*_: object, **__: object) -> NoReturn:
    raise InvalidInput


class _Invalid:
    """An item of a list that is not even a mapping (``gpu_pools: [3]``): any use of it
    (attribute access, comparison, iteration, truth, formatting) raises ``InvalidInput``."""

    __slots__ = ()
    __getattr__ = __bool__ = __len__ = __iter__ = __contains__ = __getitem__ = _refuse
    __eq__ = __ne__ = __lt__ = __le__ = __gt__ = __ge__ = __hash__ = _refuse
    __str__ = __repr__ = __format__ = __int__ = __float__ = __index__ = _refuse
    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _refuse


INVALID: Any = _Invalid()

# pydantic's tags for the members of a union, which are not field names.
_UNION_TAGS = {"constrained-str", "str", "int", "bool", "none", "IPv4Network", "float"}

# Keys of earlier releases: where each went (too far from its new name for a spelling match).
MOVED_KEYS = {
    ("gpu_node_groups",): "renamed to gpu_pools in 2026-10; rename the key",
    ("gpu_sharing",): (
        "moved into each pool in 2026-11: set gpu_pools[].gpu_sharing on the pools whose GPUs "
        "are shared (e.g. gpu_pools: [{name: ..., gpu_sharing: {replicas: 4}}])"
    ),
}

# Other tools' names for a group's bounds, at any level: "max_nodes" is closer to "warm_nodes"
# as spelled than to "max_size", which it means.
OTHER_TOOLS_KEYS = {"max_nodes": "max_size", "min_nodes": "min_size"}

# pydantic error types -> stable codes (a rule of ours raises its own code as the type).
_CODES = {
    "missing": "Required",
    "extra_forbidden": "UnknownKey",
    "less_than_equal": "OutOfRange",
    "greater_than_equal": "OutOfRange",
    "less_than": "OutOfRange",
    "greater_than": "OutOfRange",
    "string_too_long": "WrongLength",
    "string_too_short": "WrongLength",
    "too_long": "WrongLength",
    "too_short": "WrongLength",
    "string_pattern_mismatch": "BadFormat",
    "literal_error": "NotAllowed",
}
_TYPE_NAMES = {
    "int_type": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
    "string_type": "text",
    "tuple_type": "a list",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping of fields",
    "model_attributes_type": "a mapping of fields",
}


def check_fields(model: type[ModelT], data: Any) -> tuple[ModelT, list[Problem]]:
    """``model`` validated from ``data``; with field errors, a partial model and the problems."""
    try:
        return model.model_validate(data), []
    except ValidationError as error:
        problems, locs = [], []
        for item in error.errors(include_url=False):
            loc = tuple(part for part in item["loc"] if part not in _UNION_TAGS)
            problem = _problem(model, loc, item)
            if problem is not None:
                problems.append(problem)
            locs.append(loc)
        return partial_config(model, data, locs), problems


class PartialModel:
    """A model whose failed fields raise ``InvalidInput`` when read (the rest read as usual)."""

    def __init__(self, model: type[BaseModel], values: dict[str, Any]) -> None:
        self._model, self._values = model, values

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name not in self._model.model_fields:
            raise AttributeError(name)
        value = self._values.get(name, INVALID)
        if value is INVALID:
            raise InvalidInput(name)
        return value


def partial_config(model: type[ModelT], data: Any, error_locs: Sequence[tuple[Any, ...]]) -> Any:
    """``model`` built from ``data`` where possible: a ``PartialModel`` whose fields under an
    error location raise ``InvalidInput`` when read."""
    if not isinstance(data, Mapping):
        return INVALID
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        below = [loc[1:] for loc in error_locs if loc and loc[0] == name]
        if name not in data:
            if not field.is_required():
                values[name] = field.get_default(call_default_factory=True)
        elif not below:
            values[name] = _adapter(model, name).validate_python(data[name])
        else:
            values[name] = _partial_value(field.annotation, data[name], below)
    return PartialModel(model, values)


def _partial_value(annotation: Any, value: Any, error_locs: list[tuple[Any, ...]]) -> Any:
    """A nested model (or a list of them) built partially; any other failed value is INVALID."""
    nested = _model_in(annotation)
    if nested is None:
        return INVALID
    if isinstance(value, Mapping) and _is_model_field(annotation):
        return partial_config(nested, value, error_locs)
    if isinstance(value, list) and not any(
        not loc or not isinstance(loc[0], int) for loc in error_locs
    ):
        return tuple(
            partial_config(nested, item, [loc[1:] for loc in error_locs if loc[0] == i])
            if any(loc[0] == i for loc in error_locs)
            else nested.model_validate(item)
            for i, item in enumerate(value)
        )
    return INVALID


def _is_model_field(annotation: Any) -> bool:
    """A model or an optional model (not a list of models)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    args = getattr(annotation, "__args__", ()) or ()
    return type(None) in args and any(_is_model_field(a) for a in args)


@cache
def _adapter(model: type[BaseModel], name: str) -> TypeAdapter[Any]:
    return TypeAdapter(model.model_fields[name].rebuild_annotation())


def _problem(model: type[BaseModel], loc: tuple[Any, ...], item: Any) -> Problem | None:
    kind, value = item["type"], item.get("input")
    path = field_path(loc)
    if kind == "missing":
        return Problem("Required", path, "required field is missing")
    if kind == "extra_forbidden":
        return _unknown_key(model, loc)
    if kind == "too_short" and _long_enough(item):
        return None  # its items failed (reported on their own), not the list's length
    if kind in _TYPE_NAMES:
        return Problem("WrongType", path, _wrong_type(kind, value))
    code = _CODES.get(kind, kind if kind[:1].isupper() else "Invalid")
    message = item["msg"].removeprefix("Value error, ")
    if code == "OutOfRange":
        message = _bound(model, loc, item)
    elif code == "WrongLength":
        message = _length(item)
    elif code == "BadFormat":
        message = _hint(model, loc) or message
    elif code == "NotAllowed":
        message = f"must be {item['ctx']['expected']}"
    if code in ("OutOfRange", "WrongLength") or kind == code:  # the message shows the value
        return Problem(code, path, message)
    return Problem(code, path, f"{message} (got: {show(value)})")


def _wrong_type(kind: str, value: Any) -> str:
    wanted = _TYPE_NAMES[kind]
    got = show(value)
    if kind == "string_type" and isinstance(value, int | float) and not isinstance(value, bool):
        text = getattr(value, "yaml_text", None) or got
        return f'must be text, but YAML reads {text} as a number; quote it: "{text}"'
    if isinstance(value, bool) and kind in ("int_type", "float_type"):
        return f"must be {wanted}, not true or false (got: {got})"
    return f"must be {wanted} (got: {got})"


def _length(item: Any) -> str:
    ctx, value = item.get("ctx", {}), item.get("input")
    unit = "characters" if isinstance(value, str) else "items"
    size = len(value) if isinstance(value, str | list | tuple | Mapping) else None
    if "max_length" in ctx:
        limit = f"at most {ctx['max_length']} {unit}"
    else:
        limit = f"at least {ctx.get('min_length')} {unit}"
    has = f"has {size} {unit}; " if size is not None else ""
    return f"{has}allowed: {limit} (got: {show(value)})"


# Why a numeric bound is what it is, by field name.
BOUND_REASONS = {
    "max_size": "EKS allows at most 450 nodes in a managed node group (an EKS service quota)",
    "min_size": "EKS allows at most 450 nodes in a managed node group (an EKS service quota)",
    "nat_gateways": "at least one NAT gateway gives the private subnets' nodes egress to pull "
    "images and reach AWS APIs; at most one per availability zone, and a cluster has at most 6",
    "root_volume_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "gpu_root_volume_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "scale_down_unneeded_minutes": "the autoscaler's --scale-down-unneeded-time: at least a "
    "minute, at most a day",
    "scale_down_delay_after_add_minutes": "the autoscaler's --scale-down-delay-after-add: at "
    "most a day",
    "max_node_provision_minutes": "the autoscaler's --max-node-provision-time: a GPU node needs "
    "about 5 minutes to join; beyond an hour a failed launch blocks scale-up too long",
    "scale_down_utilization_threshold": "a fraction of the node's requested CPU and memory: "
    "above 0 (0 would never scale down), at most 1",
    "scale_down_gpu_utilization_threshold": "a fraction of the node's GPUs: above 0 (0 would "
    "never scale down), at most 1",
    "size_gib": "EBS gp3 volumes are 1-16384 GiB; the EKS AL2023 AMIs need at least 20",
    "throughput_mibps": "EBS gp3 throughput is 125-2000 MiB/s",
    "iops": "EBS gp3 volumes have 3000-80000 IOPS",
    "image_size_gb": "an image size in GB for the cold-start budget",
    "scan_interval_seconds": "the autoscaler's --scan-interval (upstream 10s): below 1 s is "
    "no faster (a loop takes seconds), above 60 s a pending pod waits longer than the "
    "autoscaler's own 30 s SLO",
    "new_pod_scale_up_delay_seconds": "the autoscaler's --new-pod-scale-up-delay (upstream 0s), "
    "up to 10 minutes",
    "replicas": "the NVIDIA device plugin needs at least 2; above 32 each sharer of a 16 GB "
    "GPU has too little memory left (time-slicing does not isolate memory)",
}
_BOUND_WORDS = {
    "less_than_equal": ("at most", "le"),
    "greater_than_equal": ("at least", "ge"),
    "less_than": ("below", "lt"),
    "greater_than": ("above", "gt"),
}


def _bound(model: type[BaseModel], loc: tuple[Any, ...], item: Any) -> str:
    words, key = _BOUND_WORDS[item["type"]]
    which = "above the upper" if key in ("le", "lt") else "below the lower"
    name = next((p for p in reversed(loc) if isinstance(p, str)), "")
    reason = BOUND_REASONS.get(name)
    because = f" ({reason})" if reason else ""
    return (
        f"{show(item.get('input'))} is {which} bound; allowed: {words} {item['ctx'][key]}{because}"
    )


_PATTERN_HINTS = {
    "cluster_name": "must start with a letter and hold only letters, digits and '-', at most 100",
    "name": "must be lower-case words of letters and digits joined by single '-', at most 56",
    "region": "must be an AWS region name such as 'us-west-2'",
    "account": "must be a 12-digit AWS account ID (ASCII digits)",
    "availability_zones": "must be an availability zone name such as 'us-west-2a' (zones a to f)",
    "availability_zone_ids": "must be an availability zone ID such as 'usw2-az1'",
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
}


def _hint(model: type[BaseModel], loc: tuple[Any, ...]) -> str | None:
    for part in reversed(loc):
        if isinstance(part, str):
            hint = _PATTERN_HINTS.get(f"{loc[0]}.{part}") or _PATTERN_HINTS.get(part)
            if hint:
                return hint
    return None


def _unknown_key(model: type[BaseModel], loc: tuple[Any, ...]) -> Problem:
    """``UnknownKey`` with the nearest valid key (a misspelling) and what is allowed, or
    ``MovedKey`` with where a key of an earlier release went. The value is never shown: a file
    given by mistake (a dotenv, a docker config.json) holds credentials under unknown keys."""
    path = field_path(loc)
    moved = MOVED_KEYS.get(tuple(p for p in loc if not isinstance(p, int)))
    if moved:
        return Problem("MovedKey", path, moved)
    allowed = _allowed_keys(model, loc[:-1])
    other_tools = OTHER_TOOLS_KEYS.get(str(loc[-1]))
    close = (
        [other_tools]
        if other_tools in allowed
        else difflib.get_close_matches(str(loc[-1]), allowed, n=1, cutoff=0.55)
    )
    hint = f" did you mean {close[0]!r}?" if close else ""
    listed = f" allowed: {', '.join(allowed)}" if allowed else ""
    return Problem("UnknownKey", path, f"unknown key;{hint}{listed}".rstrip(";"))


def field_path(loc: Sequence[Any]) -> str:
    """``a.0.b``; a mapping key that is not a plain name as ``labels["nvidia.com/x"]``; a bad
    key itself as ``tags key "x"``."""
    loc = list(loc)
    if "[key]" in loc:
        at = loc.index("[key]")
        return f"{field_path(loc[: at - 1])} key {show(loc[at - 1], 64)}"
    if not loc:
        return "config"
    text = show_key(loc[0])
    for part in loc[1:]:
        shown = show_key(part)
        text += f"[{shown}]" if shown.startswith('"') else f".{shown}"
    return text


def _long_enough(item: Any) -> bool:
    value, minimum = item.get("input"), item.get("ctx", {}).get("min_length", 0)
    return isinstance(value, list | tuple) and len(value) >= minimum


def _allowed_keys(model: type[BaseModel], loc: Sequence[Any]) -> list[str]:
    current: type[BaseModel] | None = model
    for part in loc:
        if isinstance(part, int) or current is None:
            continue
        field = current.model_fields.get(str(part))
        current = _model_in(field.annotation) if field else None
    return sorted(current.model_fields) if current else []


def _model_in(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found:
            return found
    meta = getattr(annotation, "__origin__", None)
    return _model_in(meta) if meta is not None and meta is not annotation else None
