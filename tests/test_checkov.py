"""checkov over the default synth: no unexplained finding, every accepted finding has its reason
and is still needed, and a template or manifest that breaks a rule fails the check."""

from __future__ import annotations

import fnmatch
import json
from pathlib import Path

import cdk8s
import pytest
import yaml

from charts.nvidia_device_plugin import NvidiaDevicePluginChart
from charts.warm_capacity import WarmCapacityChart
from cluster_config.gpu_sharing import MAX_REPLICAS, MIN_REPLICAS
from cluster_config.warm_capacity import WarmPool
from tests.support import Synthesized
from verify import checkov
from verify.checkov import (
    Finding,
    check_checkov,
    judge,
    load_skips,
    run_checkov,
    synthesized_files,
)


def broken_copies(default_synth: Synthesized, folder: Path) -> list[Path]:
    """A copy of the cluster template allowing IMDSv1 and of the device plugin's DaemonSet with a
    privileged container: two findings no acceptance covers."""
    template = json.loads((default_synth.outdir / "gpu-spot-cluster.template.json").read_text())
    for resource in template["Resources"].values():
        if resource["Type"] == "AWS::EC2::LaunchTemplate":
            resource["Properties"]["LaunchTemplateData"]["MetadataOptions"]["HttpTokens"] = (
                "optional"
            )
    broken_template = folder / "broken.template.json"
    broken_template.write_text(json.dumps(template))
    (daemon_set,) = [
        o
        for o in yaml.safe_load_all(
            (default_synth.outdir / "manifests" / "nvidia-device-plugin.yaml").read_text()
        )
        if o["kind"] == "DaemonSet"
    ]
    (container,) = daemon_set["spec"]["template"]["spec"]["containers"]
    container["securityContext"]["privileged"] = True
    broken_manifest = folder / "broken.yaml"
    broken_manifest.write_text(yaml.safe_dump(daemon_set))
    return [broken_template, broken_manifest]


BROKEN = ("broken.template.json", "broken.yaml")


def warm_capacity_manifests(folder: Path) -> list[Path]:
    """The warm-capacity chart both ways (CapacityBuffer, and the pause pods of Kubernetes 1.33),
    which the default config does not make."""
    paths = []
    for name, api in (("buffer", "v1beta1"), ("pause", None)):
        chart = WarmCapacityChart(
            cdk8s.App(),
            "Warm",
            pools=[WarmPool(pool="gpu-spot-ng", nodes=1, gpus_per_node=1)],
            capacity_buffer_api=api,
        )
        path = folder / f"gpu-warm-capacity-{name}.yaml"
        path.write_text(yaml.safe_dump_all(chart.to_json()))
        paths.append(path)
    return paths


@pytest.fixture(scope="module")
def scan(default_synth: Synthesized, tmp_path_factory: pytest.TempPathFactory) -> list[Finding]:
    """One checkov run over the default synth's files, the warm-capacity manifests and the broken
    copies (checkov judges each file on its own, so a finding's file says which it came from)."""
    folder = tmp_path_factory.mktemp("broken")
    broken = broken_copies(default_synth, folder)
    warm = warm_capacity_manifests(folder)
    return run_checkov([*synthesized_files(default_synth.outdir), *warm, *broken])


@pytest.fixture(scope="module")
def findings(scan: list[Finding]) -> list[Finding]:
    """The findings on the default synth."""
    return [f for f in scan if f.file not in BROKEN]


def test_default_synth_scans_every_template_and_manifest(default_synth: Synthesized) -> None:
    names = [p.name for p in synthesized_files(default_synth.outdir)]
    assert names == [
        "gpu-spot-cluster.template.json",
        "gpu-spot-network.template.json",
        "cluster-autoscaler.yaml",
        "ebs-storage-class.yaml",
        "gpu-smoke-test.yaml",
        "nvidia-device-plugin.yaml",
    ]


def test_every_finding_on_the_default_synth_is_accepted_with_a_reason(
    findings: list[Finding],
) -> None:
    skips = load_skips()
    assert [f.line() for f in findings if not any(s.covers(f) for s in skips)] == []
    assert all(len(s.reason) > 40 for s in skips)


EFA_PLUGIN = "kube-system.aws-efa-k8s-device-plugin"
"""Accepted on the EFA pools' chart, which the default synth lacks: tests/test_efa_charts.py
proves each of those acceptances needed."""


def test_every_accepted_pattern_is_still_needed(findings: list[Finding]) -> None:
    unused = [
        (skip.check, pattern)
        for skip in load_skips()
        for pattern in skip.resources
        if EFA_PLUGIN not in pattern
        and not any(
            f.check_id == skip.check and fnmatch.fnmatchcase(f.resource, pattern) for f in findings
        )
    ]
    assert unused == []


def test_the_project_owned_pods_need_no_exception(findings: list[Finding]) -> None:
    """The smoke test meets every checkov Kubernetes rule, its NetworkPolicy included."""
    assert [f.line() for f in findings if f.file == "gpu-smoke-test.yaml"] == []


def test_every_pod_has_a_network_policy(findings: list[Finding]) -> None:
    assert [f.line() for f in findings if f.check_id == "CKV2_K8S_6"] == []


def test_only_the_audit_log_group_is_needed_on_a_customer_key(findings: list[Finding]) -> None:
    unencrypted = sorted(f.resource for f in findings if f.check_id == "CKV_AWS_158")
    assert not any("ControlPlaneLogs" in r for r in unencrypted)
    # The two handlers', their Provider frameworks', the default-SG emptier's logs, the flow logs.
    assert len(unencrypted) == 6


def test_a_broken_template_and_manifest_fail_the_check(scan: list[Finding]) -> None:
    broken = [f for f in scan if f.file in BROKEN]
    result = judge(broken, load_skips(), len(BROKEN))
    assert result.status == "FAIL"
    failed = {(line.split()[0], line.split()[1]) for line in result.details}
    # IMDSv1 allowed; privileged container
    assert {("CKV_AWS_79", BROKEN[0]), ("CKV_K8S_16", BROKEN[1])} <= failed


def test_a_skip_without_a_reason_is_refused(tmp_path: Path) -> None:
    skips = tmp_path / "skips.yaml"
    skips.write_text("- check: CKV_K8S_8\n  resources: ['*']\n  reason: ' '\n")
    with pytest.raises(ValueError, match=r"entry 1 \(CKV_K8S_8\): needs a reason"):
        load_skips(skips)


def test_checkov_that_cannot_run_is_a_failure(
    default_synth: Synthesized, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkov, "CHECKOV", Path("/nonexistent/checkov"))
    result = check_checkov(synthesized_files(default_synth.outdir))
    assert (result.status, result.summary) == (
        "FAIL",
        "/nonexistent/checkov is missing: run scripts/setup.sh",
    )


def test_device_plugin_acceptances_cover_every_daemon_set_sharing_can_produce() -> None:
    """The device plugin's accepted findings follow from its pod spec, which every time-slicing
    DaemonSet copies: the acceptances name the chart's DaemonSets by their common prefix, so each
    sharing config (replicas 2..32, with or without multi-GPU requests) is covered."""
    configs = {
        f"time-slicing-{replicas}{suffix}": {"version": "v1"}
        for replicas in range(MIN_REPLICAS, MAX_REPLICAS + 1)
        for suffix in ("", "-multi")
    }
    chart = NvidiaDevicePluginChart(
        cdk8s.App(), "Plugin", gpu_instance_types=["g5.xlarge"], sharing_configs=configs
    )
    names = [
        f"DaemonSet.{o['metadata']['namespace']}.{o['metadata']['name']}"
        for o in chart.to_json()
        if o["kind"] == "DaemonSet"
    ]
    assert len(names) == 1 + len(configs)
    plugin_checks = {
        skip.check
        for skip in load_skips()
        if any(
            fnmatch.fnmatchcase("DaemonSet.kube-system.nvidia-device-plugin-daemonset", p)
            for p in skip.resources
        )
    }
    assert {"CKV_K8S_8", "CKV_K8S_23"} <= plugin_checks
    # Each check accepted on the plain DaemonSet is accepted on every copy too (by some entry:
    # other entries of the same check cover other workloads, e.g. the EFA plugin's).
    uncovered = [
        (check, name)
        for check in sorted(plugin_checks)
        for name in names
        if not any(
            skip.covers(Finding(check, "", name, "nvidia-device-plugin.yaml"))
            for skip in load_skips()
        )
    ]
    assert uncovered == []
