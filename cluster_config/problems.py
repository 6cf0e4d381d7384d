"""What a config check reports: one ``Problem`` per broken rule, each with a stable code.

A code names the rule (PascalCase, like aws-cdk's ``ValidationError(lit`Code`, ...)`` in
``aws-cdk-lib/core/lib/errors.ts``, read at v2.275): tests and scripts match the code and the
field, so a message can be reworded without breaking them. The line a user reads is
``<field path>: <what is wrong, what is allowed> [<Code>]``.

Everything echoed from the user's file goes through ``show`` (values) or ``show_key`` (keys):
control characters are escaped, so a file cannot move the cursor or recolour the terminal.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

MAX_REPORTED_PROBLEMS = 30
SHOWN_VALUE_CHARS = 120
MAX_LINE_CHARS = 1000
"""Long enough for every list of allowed keys or zones."""


@dataclass(frozen=True)
class Problem:
    code: str
    """The rule's stable name, e.g. ``MinSizeAboveMaxSize``."""
    path: str
    """The field, e.g. ``gpu_pools.0.min_size`` (``config`` for the file as a whole)."""
    message: str
    """What is wrong and what is allowed, in the user's words."""

    def __str__(self) -> str:
        line = f"{self.path}: {clip(self.message, MAX_LINE_CHARS)}"
        return f"{escape_controls(line)} [{self.code}]"


class ConfigError(Exception):
    """A config that cannot be deployed; ``problems`` holds every broken rule."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))

    @property
    def codes(self) -> list[tuple[str, str]]:
        """``(code, path)`` of each problem: what tests assert."""
        return [(p.code, p.path) for p in self.problems]

    def report(self, subject: str = "cluster config") -> str:
        shown = [str(p) for p in self.problems[:MAX_REPORTED_PROBLEMS]]
        more = len(self.problems) - len(shown)
        lines = "\n".join(f"  - {p}" for p in shown)
        if more:
            lines += f"\n  ... and {more} more"
        return f"Invalid {subject} ({len(self.problems)} problem(s)):\n{lines}"


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]")


def escape_controls(text: str) -> str:
    """``text`` with control and bidirectional-formatting characters as ``\\u....`` escapes."""
    return _CONTROL.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def show_key(key: object, limit: int = 64) -> str:
    """A mapping key as a path part: plain names as typed, anything else quoted and escaped."""
    text = str(key)
    if isinstance(key, int) or re.fullmatch(r"[A-Za-z_]\w*", text):
        return clip(text, limit)
    return show(text, limit)


def show(value: Any, limit: int = SHOWN_VALUE_CHARS) -> str:
    """``value`` as JSON-like text (non-ASCII as typed, control characters escaped), cut at
    about ``limit`` characters.

    Walks only as much of ``value`` as it prints, so a huge or alias-expanded value costs
    nothing to show.
    """
    parts: list[str] = []
    _render(value, parts, limit + 1, depth=0)
    return clip(escape_controls("".join(parts)), limit)


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
    if isinstance(value, float):
        return add(getattr(value, "yaml_text", None) or str(value))
    text = str(value)
    return add(text if isinstance(value, int) else json.dumps(text[:budget]))
