"""README and docs/ stay true: every config field documented, every command and link resolves,
every YAML example is what it claims to be (a config that validates, or Kubernetes that does)."""

from __future__ import annotations

import re
import typing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml
from pydantic import BaseModel

from charts import build_charts, write_manifests
from cluster_config.loader import merge_override, validate_config
from cluster_config.model import ClusterConfig
from cluster_config.node_groups import node_group_specs
from tests.support import ROOT, config_with, default_data

README = ROOT / "README.md"
DOCS = sorted((ROOT / "docs").glob("*.md"))
PAGES = [README, *DOCS]
CONFIGURATION = ROOT / "docs" / "configuration.md"


def _models(annotation: Any) -> list[tuple[type[BaseModel], bool]]:
    """The pydantic models inside a field's annotation, each with whether it sits in a sequence."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [(annotation, False)]
    in_sequence = typing.get_origin(annotation) in (tuple, list)
    found = []
    for argument in typing.get_args(annotation):
        for model, listed in _models(argument):
            found.append((model, listed or in_sequence))
    return found


def field_names(model: type[BaseModel], prefix: str = "") -> Iterator[str]:
    """Every field, nested ones as ``a.b``, list items as ``a[].b`` (the docs' notation)."""
    for name, field in model.model_fields.items():
        full = prefix + name
        nested = _models(field.annotation)
        if not nested:
            yield full
            continue
        inner, listed = nested[0]
        yield full + ("[]" if listed else "")
        yield from field_names(inner, full + ("[]." if listed else "."))


def fenced(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.S | re.M)


def test_field_walk_reaches_nested_and_listed_fields() -> None:
    names = set(field_names(ClusterConfig))
    assert {
        "cluster_name",
        "endpoint.public_access_cidrs",
        "gpu_pools[]",
        "gpu_pools[].on_demand_fallback.max_size",
        "gpu_pools[].gpu_sharing.replicas",
        "autoscaler.scale_down_gpu_utilization_threshold",
    } <= names


def test_every_config_field_has_its_own_row_in_the_configuration_reference() -> None:
    rows = re.findall(r"^\| `([^`]+)` \|", CONFIGURATION.read_text(), flags=re.M)
    missing = [name for name in field_names(ClusterConfig) if name not in rows]
    assert missing == []
    assert len(rows) == len(set(rows)), "a field has two rows"
    unknown = set(rows) - set(field_names(ClusterConfig))
    assert unknown == set(), "rows for fields the model does not have"


def _repo_paths(command: str) -> list[str]:
    """Repository files a shell line runs or reads: ``bash X``, ``-f X``, ``config=X`` and bare
    paths under the repository's own folders."""
    paths = re.findall(r"(?:bash|source|-f|config=)\s*([\w./-]+)", command)
    paths += re.findall(r"(?<![\w./-])((?:scripts|examples|bench|docs|verify)/[\w./-]+)", command)
    return paths


def test_every_repo_file_readmes_commands_use_exists() -> None:
    commands = [line for block in fenced(README.read_text(), "sh") for line in block.splitlines()]
    used = {path for line in commands for path in _repo_paths(line)}
    assert "scripts/synth.sh" in used and "scripts/test.sh" in used
    generated = ("cdk.out/", "my-cluster.yaml", "deployed.out")
    missing = [p for p in used if not p.startswith(generated) and not (ROOT / p).is_file()]
    assert missing == []


def test_readme_names_exactly_the_two_commands() -> None:
    (commands, *_) = fenced(README.read_text(), "sh")
    assert "bash scripts/synth.sh " in commands
    assert "bash scripts/test.sh " in commands
    assert (ROOT / ".ci" / "run").read_text().count("bash scripts/test.sh") == 1


def test_manifests_the_docs_name_are_ones_synth_writes(tmp_path: Path) -> None:
    config = config_with()
    written = {
        p.name for p in write_manifests(build_charts(config, node_group_specs(config)), tmp_path)
    }
    named = {
        name
        for page in PAGES
        for name in re.findall(r"cdk\.out/manifests/([\w-]+\.yaml)", page.read_text())
    }
    assert "gpu-smoke-test.yaml" in named
    assert named - written == set()


def _anchors(text: str) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to ``-``."""
    headings = re.findall(r"^#+ (.+)$", text, flags=re.M)
    return {re.sub(r"[^\w\- ]", "", h.strip().lower()).replace(" ", "-") for h in headings}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    text = re.sub(r"^```.*?^```", "", page.read_text(), flags=re.S | re.M)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and anchor not in _anchors(file.read_text())):
            broken.append(target)
    assert broken == []


def test_readme_is_at_most_250_lines() -> None:
    assert len(README.read_text().splitlines()) <= 250


def test_readme_links_every_docs_page() -> None:
    text = README.read_text()
    assert [p.name for p in DOCS if f"(docs/{p.name})" not in text] == []


CONFIG_KEYS = set(ClusterConfig.model_fields)


def _yaml_examples() -> list[tuple[str, Any]]:
    return [
        (f"{page.name}#{n}", yaml.safe_load(block))
        for page in PAGES
        for n, block in enumerate(fenced(page.read_text(), "yaml"))
    ]


def _as_kubernetes(example: dict[str, Any]) -> dict[str, Any]:
    """A whole object as is; a pod-spec fragment (selector, tolerations, affinity, resources)
    inside a Pod."""
    if "kind" in example:
        return example
    spec: dict[str, Any] = {k: v for k, v in example.items() if k != "resources"}
    container: dict[str, Any] = {"name": "app", "image": "example"}
    if "resources" in example:
        container["resources"] = example["resources"]
    spec["containers"] = [container]
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "example"}, "spec": spec}


@pytest.mark.parametrize(("where", "example"), _yaml_examples(), ids=lambda v: str(v)[:40])
def test_every_yaml_example_is_a_valid_config_or_valid_kubernetes(where: str, example: Any) -> None:
    assert isinstance(example, dict), where
    if set(example) <= CONFIG_KEYS:
        validate_config(merge_override(default_data(), example))
    else:
        kubernetes_validate.validate(_as_kubernetes(example), "1.36.0", strict=True)


def test_yaml_examples_cover_configs_and_kubernetes() -> None:
    kinds = {set(e) <= CONFIG_KEYS for _, e in _yaml_examples()}
    assert kinds == {True, False}


def _documented_defaults() -> dict[str, str]:
    rows = re.findall(r"^\| `([^`]+)` \| ([^|]+) \|", CONFIGURATION.read_text(), flags=re.M)
    return {name: cell.strip() for name, cell in rows}


def _default_of(name: str) -> Any:
    """What a config without ``name`` gets: the cdk.json value for a field of the cluster, the
    model's default for a field inside a list item (a pool) or not in cdk.json; ``REQUIRED``
    when a list item must give it; ``SECTION`` for a mapping documented row by row."""
    parts = name.replace("[]", "").split(".")
    listed = "[]." in name
    model: Any = ClusterConfig
    data: Any = default_data()
    for depth, part in enumerate(parts):
        field = model.model_fields[part]
        nested = _models(field.annotation)
        last = depth == len(parts) - 1
        if not listed and isinstance(data, dict) and part in data:
            data = data[part]
        elif not listed or depth > 0:
            data = _MISSING
        if last:
            if nested and not nested[0][1] and field.is_required():
                return SECTION
            if data is not _MISSING and not (listed and depth > 0):
                return data
            if field.is_required():
                return REQUIRED
            default = field.get_default(call_default_factory=True)
            return default if not isinstance(default, BaseModel) else SECTION
        if nested:
            model = nested[0][0]
    raise AssertionError(name)


_MISSING, REQUIRED, SECTION = object(), "required", "see below"


def _parse_default(cell: str) -> Any:
    if cell.startswith("unset"):
        return None
    if cell in (REQUIRED, SECTION):
        return cell
    value = re.fullmatch(r"`([^`]+)`", cell)
    assert value, f"a default is `<YAML>`, unset, required or see below, got {cell!r}"
    return yaml.safe_load(value.group(1))


def test_every_documented_default_is_the_models() -> None:
    """docs/configuration.md once listed gpu_pools[].min_size 0 and max_size 4 as defaults
    that the model required; every row's default is now compared with what the code applies."""
    documented = _documented_defaults()
    wrong = {
        name: (documented[name], _default_of(name))
        for name in field_names(ClusterConfig)
        if _parse_default(documented[name]) != _normalised(_default_of(name))
    }
    assert wrong == {}


def _normalised(value: Any) -> Any:
    """Model defaults in the file's terms: tuples as lists, pydantic values as text."""
    if isinstance(value, tuple | list):
        return [_normalised(v) for v in value]
    if isinstance(value, dict):
        return {k: _normalised(v) for k, v in value.items()}
    return value


def test_the_defaults_check_reads_cdk_json_and_the_model() -> None:
    assert _default_of("cluster_name") == "gpu-spot"
    assert _default_of("gpu_pools[].max_size") == 4
    assert _default_of("gpu_pools[].name") == REQUIRED
    assert _default_of("gpu_pools[].on_demand_fallback") is None
    assert _default_of("account") is None
    assert _default_of("autoscaler") == SECTION


def test_shell_commands_use_the_users_cluster_name_not_the_default() -> None:
    """docs/using-gpus.md's first command once read the stack of the default cluster name."""
    commands = "\n".join(block for page in PAGES for block in fenced(page.read_text(), "sh"))
    assert "gpu-spot-cluster" not in commands and "gpu-spot-network" not in commands
    assert re.search(r"--stack-name\s+[\"']?\$", commands)
