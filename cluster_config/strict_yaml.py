"""YAML (and JSON, which YAML reads) loaded strictly and within bounds.

PyYAML's ``safe_load`` keeps the last of two equal keys, expands aliases without limit,
recurses once per nesting level and builds sets, bytes and dates from tags. Here a repeated key
is an error, mapping keys must be text, values are only YAML's plain scalars (text, numbers,
booleans, null), lists and mappings (``!!set`` would order pools by the interpreter's hash seed,
``!!binary`` would turn a name into bytes), nesting is at most ``MAX_DEPTH`` levels and aliases
may expand to at most ``MAX_NODES`` values in all; every error says where (line and column) and
under which field, with a stable code.
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


class YamlFloat(float):
    """A float that remembers how the file wrote it (``1.30``, read as 1.3), for messages."""

    yaml_text: str

    def __new__(cls, value: float, yaml_text: str) -> YamlFloat:
        number = super().__new__(cls, value)
        number.yaml_text = yaml_text
        return number


class StrictYamlError(Exception):
    """``path``: the field it happened under (``config`` at the top); ``where``: line/column;
    ``code``: the rule broken (``YamlSyntax``, ``DuplicateKey``, ``YamlTag``, ...)."""

    def __init__(self, path: str, where: str, problem: str, code: str = "YamlSyntax") -> None:
        self.path, self.where, self.problem, self.code = path, where, problem, code
        super().__init__(f"{path}: {where}: {problem}")


def load_strict_yaml(text: str) -> Any:
    """The document in ``text``; raises ``StrictYamlError`` for anything this module refuses."""
    try:
        loader = _StrictLoader(text)
    except yaml.reader.ReaderError as error:
        problem = f"character {error.character:#x} at position {error.position} is not allowed"
        raise StrictYamlError("config", "", f"not valid YAML or JSON: {problem}") from None
    try:
        root = loader.get_single_node()
        if root is None:
            return None
        _check_expanded_size(root)
        return loader.construct_document(root)
    except StrictYamlError:
        raise
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = " ".join(str(p) for p in (error.context, error.problem) if p)
        raise StrictYamlError(
            "config", _where(mark), f"not valid YAML or JSON: {problem}"
        ) from None
    except yaml.YAMLError as error:
        raise StrictYamlError("config", "", f"not valid YAML or JSON: {error}") from None
    finally:
        loader.dispose()


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""


class _StrictLoader(yaml.SafeLoader):
    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._path: list[str] = []

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
            node = super().compose_node(parent, index)
            if node is not None and node.tag not in _PLAIN_TAGS and node.tag != _MERGE_TAG:
                self._refuse_tag(node)
            if isinstance(node, MappingNode):
                self._check_keys(node)
            return node
        finally:
            if parent is not None:
                self._path.pop()

    def _refuse_tag(self, node: Node) -> None:
        name = node.tag.removeprefix("tag:yaml.org,2002:")
        what = _TAG_WORDS.get(name, f"tag {name[:40]!r}")
        quote = "; quote it to keep it as text" if isinstance(node, ScalarNode) else ""
        raise StrictYamlError(
            self.field_path(),
            _where(node.start_mark),
            f"{what} is not a config value; allowed: text, numbers, true/false, null, lists "
            f"and mappings{quote}",
            "YamlTag",
        )

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
        """Keys are text and appear once (merge keys ``<<`` aside, which YAML lets override)."""
        seen: dict[str, Any] = {}
        for key_node, _ in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, ScalarNode) or key_node.tag != "tag:yaml.org,2002:str":
                raise StrictYamlError(
                    self.field_path(),
                    _where(key_node.start_mark),
                    f"key {str(key_node.value)[:40]!r} is not text; quote it",
                    "KeyNotText",
                )
            if key_node.value in seen:
                raise StrictYamlError(
                    ".".join([*self._path[:4], str(key_node.value)[:64]]),
                    _where(key_node.start_mark),
                    f"key {str(key_node.value)[:64]!r} appears twice in one mapping (first on "
                    f"line {seen[key_node.value].line + 1}); each key may appear once",
                    "DuplicateKey",
                )
            seen[key_node.value] = key_node.start_mark


_StrictLoader.add_constructor("tag:yaml.org,2002:int", _StrictLoader.construct_yaml_int)
_StrictLoader.add_constructor("tag:yaml.org,2002:float", _StrictLoader.construct_yaml_float)


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
