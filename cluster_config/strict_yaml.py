"""YAML (and JSON, which YAML reads) loaded strictly and within bounds.

PyYAML's ``safe_load`` keeps the last of two equal keys, expands aliases without limit,
recurses once per nesting level and builds sets, bytes and dates from tags. Here a repeated key
is an error, mapping keys must be text, values are only YAML's plain scalars (text, numbers,
booleans, null), lists and mappings (``!!set`` would order pools by the interpreter's hash seed,
``!!binary`` would turn a name into bytes), nesting is at most ``MAX_DEPTH`` levels and aliases
may expand to at most ``MAX_NODES`` values in all; every error says where (line and column) and
under which field, with a stable code.

A refused tag, a repeated key or a key that is not text leaves the rest of the file readable, so
each of them is reported and reading goes on (one report, not one round per problem): the
tagged value reads as ``REFUSED`` (the loader treats that field as invalid), a repeated key
keeps its last value (as YAML readers do; the message says so), a key that is not text is
dropped. Syntax errors and the bounds stop reading at once.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

MAX_DEPTH = 32
"""Nesting levels; the deepest config field is 4 levels down."""
MAX_NODES = 20_000
"""Values after alias expansion; the default config has about 100."""

_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = frozenset(
    f"tag:yaml.org,2002:{name}" for name in ("str", "int", "float", "bool", "null", "seq", "map")
)
_TAG_WORDS = {
    "timestamp": "a date or time",
    "binary": "bytes",
    "set": "a set",
    "omap": "an ordered mapping",
    "pairs": "a list of pairs",
}


class RefusedValue:
    """What a refused tag's value reads as: no field type accepts it."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "<a value with a refused YAML tag>"


REFUSED: Any = RefusedValue()
_REFUSED_TAG = "tag:cluster-config,2026:refused"


class YamlFloat(float):
    """A float that remembers how the file wrote it (``1.30``, read as 1.3), for messages."""

    yaml_text: str

    def __new__(cls, value: float, yaml_text: str) -> YamlFloat:
        number = super().__new__(cls, value)
        number.yaml_text = yaml_text
        return number


class StrictYamlError(Exception):
    """``path``: the field it happened under (``config`` at the top); ``where``: line/column;
    ``code``: the rule broken (``YamlSyntax``, ``DuplicateKey``, ``YamlTag``, ...); ``earlier``:
    when this one stopped reading, the problems found before it."""

    def __init__(self, path: str, where: str, problem: str, code: str = "YamlSyntax") -> None:
        self.path, self.where, self.problem, self.code = path, where, problem, code
        self.earlier: list[StrictYamlError] = []
        super().__init__(f"{path}: {where}: {problem}")


def load_strict_yaml(text: str) -> tuple[Any, list[StrictYamlError]]:
    """The document in ``text`` and every problem found that left the rest readable (refused
    tags, repeated keys, keys that are not text); raises ``StrictYamlError`` for one that stops
    reading (syntax, nesting, size), with the problems found before it as ``earlier``."""
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as error:
        problem = f"character {error.character:#x} at position {error.position} is not allowed"
        raise StrictYamlError("config", "", f"not valid YAML or JSON: {problem}") from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None, loader.problems
        _check_expanded_size(root)
        return loader.construct_document(root), loader.problems
    except StrictYamlError as error:
        error.earlier = loader.problems
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(p) for p in (error.context, error.problem) if p)
        stop = StrictYamlError("config", _where(mark), f"not valid YAML or JSON: {problem}")
        stop.earlier = loader.problems
        raise stop from None
    except yaml.YAMLError as error:
        stop = StrictYamlError("config", "", f"not valid YAML or JSON: {error}")
        stop.earlier = loader.problems
        raise stop from None
    finally:
        loader.dispose()


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._path: list[str] = []
        self._found: list[tuple[int, StrictYamlError]] = []

    @property
    def problems(self) -> list[StrictYamlError]:
        """What was found so far, in the file's order (a mapping's keys are checked after its
        values are read)."""
        return [error for _, error in sorted(self._found, key=lambda found: found[0])]

    def _report(self, mark: Any, path: str, problem: str, code: str) -> None:
        self._found.append((mark.index, StrictYamlError(path, _where(mark), problem, code)))

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        # The composer recurses per level: bound it here, before Python's recursion limit.
        if isinstance(index, ScalarNode):
            self._path.append(str(index.value)[:64])
        elif parent is not None:
            self._path.append(str(index))
        if len(self._path) > MAX_DEPTH:
            raise StrictYamlError(
                self.field_path(),
                _where(self.peek_event().start_mark),  # type: ignore[no-untyped-call]
                f"nested more than {MAX_DEPTH} levels deep",
                "TooDeep",
            )
        try:
            # An alias is a node composed (and checked) where its anchor is: not again.
            alias = self.check_event(yaml.AliasEvent)
            node = super().compose_node(parent, index)
            if node is None or alias:
                return node
            if isinstance(node, MappingNode):
                self._check_keys(node)
            if node.tag not in _PLAIN_TAGS and node.tag != _MERGE_TAG:
                self._refuse_tag(node)
            return node
        finally:
            if parent is not None:
                self._path.pop()

    def _refuse_tag(self, node: Node) -> None:
        """Reports the tag; the node then reads as ``REFUSED`` (its contents are not built)."""
        name = node.tag.removeprefix("tag:yaml.org,2002:")
        what = _TAG_WORDS.get(name, f"tag {name[:40]!r}")
        quote = "; quote it to keep it as text" if isinstance(node, ScalarNode) else ""
        self._report(
            node.start_mark,
            self.field_path(),
            f"{what} is not a config value; allowed: text, numbers, true/false, null, lists "
            f"and mappings{quote}",
            "YamlTag",
        )
        node.tag = _REFUSED_TAG

    def construct_refused(self, node: Node) -> Any:
        return REFUSED

    def construct_yaml_float(self, node: ScalarNode) -> float:
        return YamlFloat(super().construct_yaml_float(node), str(node.value)[:40])

    def construct_yaml_int(self, node: ScalarNode) -> int:
        try:
            return super().construct_yaml_int(node)
        except ValueError:  # longer than Python converts (sys.get_int_max_str_digits)
            raise StrictYamlError(
                "config", _where(node.start_mark), "a number of more than 4300 digits", "TooLarge"
            ) from None

    def field_path(self) -> str:
        return ".".join(self._path[:4]) or "config"

    def _check_keys(self, node: MappingNode) -> None:
        """Keys are text and appear once (merge keys ``<<`` aside, which YAML lets override).

        A key that is not text (or had its tag refused) is reported and dropped with its value;
        a repeated key is reported and its last value kept, as PyYAML's constructor keeps it.
        """
        seen: dict[str, Any] = {}
        kept: list[tuple[Node, Node]] = []
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                if value_node.tag != _REFUSED_TAG:
                    kept.append((key_node, value_node))
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                if key_node.tag != _REFUSED_TAG:  # a refused tag is reported already
                    self._report(
                        key_node.start_mark,
                        self.field_path(),
                        f"key {str(key_node.value)[:40]!r} is not text; quote it",
                        "KeyNotText",
                    )
                continue
            kept.append((key_node, value_node))
            if key_node.value in seen:
                first = seen[key_node.value]
                self._report(
                    key_node.start_mark,
                    ".".join([*self._path[:4], str(key_node.value)[:64]]),
                    f"key {str(key_node.value)[:64]!r} appears twice in one mapping (first on "
                    f"line {first.line + 1}); each key may appear once (the last value is the "
                    "one checked here)",
                    "DuplicateKey",
                )
            seen[key_node.value] = key_node.start_mark
        node.value = kept


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)
_StrictLoader.add_constructor(_REFUSED_TAG, _StrictLoader.construct_refused)


def _check_expanded_size(root: Node) -> None:
    """Refuses a document whose aliases expand to more than ``MAX_NODES`` values, naming the
    top-level field that holds them (counted on the node graph, never by expanding it)."""
    sizes: dict[int, int] = {}

    def size(node: Node) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        sizes[id(node)] = 1  # a cycle counts once; PyYAML cannot build one from safe tags
        total = 1
        if isinstance(node, SequenceNode):
            total += sum(size(child) for child in node.value)
        elif isinstance(node, MappingNode):
            total += sum(size(k) + size(v) for k, v in node.value)
        total = min(total, MAX_NODES + 1)
        sizes[id(node)] = total
        return total

    if size(root) <= MAX_NODES:
        return
    path = "config"
    if isinstance(root, MappingNode):
        biggest = max(root.value, key=lambda kv: size(kv[1]))
        path = str(biggest[0].value)[:64]
        root = biggest[1]
    raise StrictYamlError(
        path,
        _where(root.start_mark),
        f"aliases expand to more than {MAX_NODES} values; write the values out instead",
        "TooLarge",
    )
