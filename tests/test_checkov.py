"""checkov over the default synth: no unexplained finding, every accepted finding has its reason
and is still needed, and a template or manifest that breaks a rule fails the check; and every
check on the representative configs, which share the session's one checkov scan."""

from __future__ import annotations

import fnmatch
from pathlib import Path

import cdk8s
import pytest
import yaml

from charts.nvidia_device_plugin import NvidiaDevicePluginChart
from cluster_config.gpu_sharing import MAX_REPLICAS, MIN_REPLICAS
from tests.support import (
    BROKEN,
    EFA_PLUGIN_MANIFEST,
    REPRESENTATIVE,
    WARM_CAPACITY_PREFIX,
)
from verify import checkov
from verify.cfn_lint import check_cfn_lint
from verify.checkov import (
    Finding,
    check_checkov,
    judge,
    load_skips,
    synthesized_files,
)
from verify.eks_posture import check_eks_posture, stack_properties
from verify.manifests import attached_objects, check_schema, check_security
from verify.nag import check_nag
from verify.synth import Synthesis


@pytest.fixture(scope="module")
def scan(checkov_scan: list[Finding]) -> list[Finding]:
    """The session's one checkov run (tests/conftest.py): the default synth's files, the
    representative configs', the warm-capacity manifests and the broken copies (checkov judges
    each file on its own, so a finding's path says which it came from)."""
    return checkov_scan


@pytest.fixture(scope="module")
def findings(scan: list[Finding], default_synth: Synthesis) -> list[Finding]:
    """The findings on the default synth, the warm-capacity manifests and the EFA example's
    device plugin (the representative configs' are checked at the end of this module, the
    broken copies' are expected)."""
    return [
        f
        for f in scan
        if Path(f.path).is_relative_to(default_synth.outdir.resolve())
        or f.file.startswith(WARM_CAPACITY_PREFIX)
        or f.file == EFA_PLUGIN_MANIFEST
    ]


def test_default_synth_scans_every_template_and_manifest(default_synth: Synthesis) -> None:
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


def test_checkov_read_each_extra_manifest(findings: list[Finding]) -> None:
    """The scan covers what the default config does not make (else the acceptances for them
    would look unneeded, or go unchecked)."""
    files = {f.file for f in findings}
    assert EFA_PLUGIN_MANIFEST in files
    assert {f"{WARM_CAPACITY_PREFIX}buffer.yaml", f"{WARM_CAPACITY_PREFIX}pause.yaml"} & files


MASKED = {("CKV2_K8S_6", "Pod.kube-system.aws-efa-k8s-device-plugin.*")}
"""Acceptances checkov 3.3.30 cannot raise in a scan of a whole synth: CKV2_K8S_6 links a
NetworkPolicy with an empty podSelector to every pod of the scan, in any namespace and file
(checkov/kubernetes/graph_builder/.../NetworkPolicyEdgeBuilder.py), and the smoke test's
default-deny is always exported. Alone, the EFA plugin's manifest raises it. verify's
k8s-security check tests each workload's policy itself, per namespace (tests/test_verify.py)."""


def test_every_accepted_pattern_is_still_needed(
    findings: list[Finding], default_synth: Synthesis
) -> None:
    unused = {
        (skip.check, pattern)
        for skip in load_skips()
        for pattern in skip.resources
        if not any(
            f.check_id == skip.check and fnmatch.fnmatchcase(f.resource, pattern) for f in findings
        )
    }
    assert unused == MASKED
    # ...masked only while the scan holds a NetworkPolicy selecting every pod: once it does not,
    # checkov raises CKV2_K8S_6 on the EFA plugin and MASKED must shrink.
    smoke_test = default_synth.outdir / "manifests" / "gpu-smoke-test.yaml"
    selectors = [
        o["spec"].get("podSelector")
        for o in yaml.safe_load_all(smoke_test.read_text())
        if o["kind"] == "NetworkPolicy"
    ]
    assert {} in selectors


def test_the_project_owned_pods_need_no_exception(findings: list[Finding]) -> None:
    """The smoke test meets every checkov Kubernetes rule, its NetworkPolicy included."""
    assert [f.line() for f in findings if f.file == "gpu-smoke-test.yaml"] == []


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
    default_synth: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(checkov, "CHECKOV_PYTHON", Path("/nonexistent/python"))
    result = check_checkov(synthesized_files(default_synth.outdir))
    assert (result.status, result.summary) == (
        "FAIL",
        "/nonexistent/python is missing: run scripts/setup.sh",
    )


def test_checkov_that_fails_on_start_up_is_a_failure_with_its_reason(
    default_synth: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    """checkov started early (verify) may have died before it got its files: the check says
    why, from its stderr, instead of waiting or reporting no findings."""
    monkeypatch.setattr(checkov, "DRIVER", "import checkov.no_such_module")
    result = check_checkov(synthesized_files(default_synth.outdir))
    assert result.status == "FAIL"
    assert result.summary.startswith("checkov did not run (exit 1): "), result.summary
    assert result.summary.endswith("No module named 'checkov.no_such_module'"), result.summary


def test_a_checkov_process_scans_once(default_synth: Synthesis) -> None:
    with checkov.CheckovProcess() as started:
        started.scan(synthesized_files(default_synth.outdir)[:1])
        with pytest.raises(RuntimeError, match="scans once"):
            started.scan(synthesized_files(default_synth.outdir)[:1])


def test_a_started_checkov_never_given_files_is_ended() -> None:
    """verify starts checkov before it synthesizes; when synth fails, no checkov is left
    behind, waiting on its stdin."""
    with checkov.CheckovProcess() as started:
        pid = started.pid
        assert pid is not None and Path(f"/proc/{pid}").exists()
    assert not Path(f"/proc/{pid}").exists()  # killed and reaped


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
    skips = load_skips()
    plugin_checks = {
        skip.check
        for skip in skips
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
            skip.covers(Finding(check, "", name, "nvidia-device-plugin.yaml")) for skip in skips
        )
    ]
    assert uncovered == []


def test_cloudformation_acceptances_name_construct_paths_not_logical_ids(
    default_synth: Synthesis,
) -> None:
    """A finding on a template of the cloud assembly is named by its construct path, so an
    acceptance survives a logical-ID change and a renamed construct cannot inherit one by hash."""
    paths = checkov.construct_paths(default_synth.outdir / "gpu-spot-cluster.template.json")
    (node_role,) = [k for k, p in paths.items() if p == "NodeRole/Resource"]
    assert checkov._by_construct_path(f"AWS::IAM::Role.{node_role}", paths) == (
        "AWS::IAM::Role.NodeRole/Resource"
    )
    patterns = [p for s in load_skips() for p in s.resources if p.startswith("AWS::")]
    assert all(p.endswith(".*") or "/" in p for p in patterns), patterns


# --- Every check on the representative configs ----------------------------------------------
# Here, with the checkov tests, because these share the session's one checkov scan: pytest-xdist
# (--dist loadscope) runs a module on one worker, and session fixtures run once per worker, so a
# second module using the scan ran the representative synths and checkov again on the other one.


@pytest.fixture(scope="module")
def representative(
    representative_synths: dict[str, Synthesis], checkov_scan: list[Finding]
) -> dict[str, tuple[Synthesis, list[Finding]]]:
    """Each representative config synthesized, with checkov's findings on its files (from the
    session's one checkov run, tests/conftest.py)."""
    by_config = {
        name: (
            synth,
            [f for f in checkov_scan if Path(f.path).is_relative_to(synth.outdir.resolve())],
        )
        for name, synth in representative_synths.items()
    }
    # Each config's files were scanned: each has its accepted findings (the handlers' logs...).
    assert all(found for _, found in by_config.values()), {
        n: len(f) for n, (_, f) in by_config.items()
    }
    return by_config


@pytest.mark.slow
@pytest.mark.parametrize("name", list(REPRESENTATIVE))
def test_every_check_passes_on_a_representative_config(
    name: str, representative: dict[str, tuple[Synthesis, list[Finding]]]
) -> None:
    synth, findings = representative[name]
    objects = attached_objects(synth.cluster)
    results = [
        check_nag(synth.validation_report(), synth.policy_error),
        check_cfn_lint(sorted(synth.outdir.glob("*.template.json"))),
        judge(findings, load_skips(), len(synthesized_files(synth.outdir))),
        check_schema(objects, synth.config.kubernetes_version),
        check_security(objects),
    ]
    assert [(r.name, r.status, r.details) for r in results if r.status != "PASS"] == []
    posture = check_eks_posture(synth.templates, stack_properties(synth.outdir))  # may warn
    assert posture.status in ("PASS", "WARN"), posture.details
