"""The pre-deploy checks: they pass on the default synth and fail on what they guard against."""

from __future__ import annotations

import copy
import io
import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
import yaml
from aws_cdk import aws_s3 as s3

from stacks import add_policy_checks
from tests.support import (
    ROOT,
    efa_plugin_manifest,
    full_matrix_only,
    warm_capacity_manifests,
)
from verify.__main__ import main, next_steps
from verify.cfn_lint import check_cfn_lint
from verify.checkov import synthesized_files
from verify.disruption import check_disruption
from verify.manifests import attached_objects, check_schema, check_security, selects
from verify.nag import check_nag
from verify.replacement import check_replacement
from verify.report import CheckResult, print_report
from verify.synth import Synthesis, read_assembly, stack_templates

AUTOSCALER = "Deployment/cluster-autoscaler"


def templates_of(synth: Synthesis) -> list[Path]:
    return sorted(synth.outdir.glob("*.template.json"))


# --- cdk-nag ---------------------------------------------------------------------------------


def test_nag_passes_with_every_finding_acknowledged_at_its_resource(
    default_synth: Synthesis,
) -> None:
    result = check_nag(default_synth.validation_report(), default_synth.policy_error)
    assert result.status == "PASS", result.details
    suppressed = default_synth.validation_report()["pluginReports"]
    acknowledged = next(p for p in suppressed if p["pluginName"] == "AwsSolutions")
    assert acknowledged["suppressedViolations"], "expected acknowledged findings with reasons"


def test_nag_fails_on_an_unacknowledged_finding(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path))
    add_policy_checks(app)
    stack = cdk.Stack(app, "Careless")
    s3.CfnBucket(stack, "Bucket")  # no encryption, logging, TLS-only policy
    with pytest.raises(RuntimeError, match=r"^ValidationFailed") as raised:
        app.synth()
    report = json.loads((tmp_path / "validation-report.json").read_text())
    result = check_nag(report, str(raised.value))
    assert result.status == "FAIL"
    assert any(d.startswith("AwsSolutions-S1 at Careless/Bucket") for d in result.details)


# --- cfn-lint --------------------------------------------------------------------------------


def test_cfn_lint_passes_on_every_template(default_synth: Synthesis) -> None:
    result = check_cfn_lint(templates_of(default_synth))
    assert (result.status, result.summary) == ("PASS", "2 templates: 0 errors, 0 warnings")


def test_cfn_lint_fails_on_an_invalid_template_as_the_command_does(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    template = copy.deepcopy(default_synth.cluster)
    cluster = next(r for r in template["Resources"].values() if r["Type"] == "AWS::EKS::Cluster")
    cluster["Properties"]["Colour"] = "blue"  # no such property
    broken = tmp_path / "broken.template.json"
    broken.write_text(json.dumps(template, indent=1))
    # In-process, the matches are the `cfn-lint` command's, rule for rule, line for line and in
    # its order: over two templates, with a config that ignores nothing (so the W3005 warnings
    # of the cluster template, which `broken` copies, come too; the project's .cfnlintrc.yaml
    # ignores no error, so E3002 fails verify's check as it fails this one).
    ignore_nothing = tmp_path / "ignore-nothing.yaml"
    ignore_nothing.write_text("ignore_checks: []\n")
    templates = [broken, default_synth.outdir / "gpu-spot-network.template.json"]
    in_process = check_cfn_lint(templates, ignore_nothing)
    assert in_process.status == "FAIL"
    assert any(d.startswith("E3002 broken.template.json") for d in in_process.details)
    # verify's own config (.cfnlintrc.yaml) ignores warnings only, and nothing else can hide an
    # error (ignore_templates, configure_rules, ...): E3002 fails verify's check as it fails this.
    rc = yaml.safe_load((ROOT / ".cfnlintrc.yaml").read_text())
    assert list(rc) == ["ignore_checks"]
    assert [check for check in rc["ignore_checks"] if not check.startswith("W")] == []
    cfn_lint = str(Path(sys.executable).with_name("cfn-lint"))
    command = subprocess.run(
        [cfn_lint, "--config-file", str(ignore_nothing), "--format", "json", "--"]
        + [str(t) for t in templates],
        capture_output=True,
        text=True,
        check=False,
    )
    assert command.returncode == 2 | 4, command.stderr  # errors and warnings found
    matches = json.loads(command.stdout)
    expected = [
        f"{m['Rule']['Id']} {Path(m['Filename']).name}:{m['Location']['Start']['LineNumber']} "
        f"{m['Message']}"
        for m in matches
    ]
    assert in_process.details == expected
    levels = [m["Level"] for m in matches]
    assert {"Error", "Warning"} <= set(levels)
    assert in_process.summary == (
        f"2 templates: {levels.count('Error')} errors, {levels.count('Warning')} warnings"
    )


def test_every_ignored_cfn_lint_check_has_a_reason() -> None:
    lines = (ROOT / ".cfnlintrc.yaml").read_text().splitlines()
    for i, line in enumerate(lines):
        if line.strip().startswith("- "):
            assert lines[i - 1].strip().startswith("#"), f"no reason above {line.strip()}"


# --- Kubernetes manifests --------------------------------------------------------------------


@pytest.fixture(scope="module")
def objects(default_synth: Synthesis) -> list[dict[str, Any]]:
    return attached_objects(default_synth.cluster)


def test_attached_manifests_pass_the_cluster_versions_schema(objects: list[dict[str, Any]]) -> None:
    result = check_schema(objects, "1.36")
    assert (result.status, result.summary) == (
        "PASS",
        "10 objects against the Kubernetes 1.36 schema",
    )


def test_schema_check_fails_on_an_unknown_field(objects: list[dict[str, Any]]) -> None:
    broken = copy.deepcopy(objects)
    broken[0]["spec"]["template"]["spec"]["containers"][0]["gpuCount"] = 1
    result = check_schema(broken, "1.36")
    assert result.status == "FAIL"
    assert result.details[0].startswith("DaemonSet/nvidia-device-plugin-daemonset:")


def test_attached_workloads_pass_the_security_check(objects: list[dict[str, Any]]) -> None:
    result = check_security(objects)
    assert result.status == "PASS", result.details


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"privileged": True}, "is privileged"),
        ({"allowPrivilegeEscalation": True}, "does not set allowPrivilegeEscalation: false"),
        ({"capabilities": {"drop": ["NET_RAW"]}}, "does not drop ALL capabilities"),
    ],
)
def test_security_check_catches_an_unsafe_container(
    objects: list[dict[str, Any]], change: dict[str, Any], problem: str
) -> None:
    unsafe = copy.deepcopy(objects)
    deployment = next(o for o in unsafe if o["kind"] == "Deployment")
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"].update(change)
    result = check_security(unsafe)
    assert result.status == "FAIL"
    assert result.details == [f"{AUTOSCALER}: container cluster-autoscaler {problem}"]


def test_security_check_requires_requests_and_non_root(objects: list[dict[str, Any]]) -> None:
    unsafe = copy.deepcopy(objects)
    deployment = next(o for o in unsafe if o["kind"] == "Deployment")
    del deployment["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"]
    del deployment["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]
    assert check_security(unsafe).details == [
        f"{AUTOSCALER}: container cluster-autoscaler does not request cpu and memory",
        f"{AUTOSCALER}: container cluster-autoscaler may run as root (set runAsNonRoot)",
    ]


def test_every_pod_needs_a_network_policy_of_its_own_namespace(
    objects: list[dict[str, Any]], tmp_path: Path
) -> None:
    """checkov's CKV2_K8S_6 cannot catch a missing policy (tests/test_checkov.py MASKED), so
    k8s-security does, per namespace; host-network pods (the EFA plugin) are outside
    NetworkPolicy. Over the default synth, the warm-capacity pause pods and the EFA plugin."""
    pause = [f for f in warm_capacity_manifests(tmp_path) if f.name.endswith("-pause.yaml")]
    extra = [*pause, efa_plugin_manifest(tmp_path)]
    every = [*objects, *(o for f in extra for o in yaml.safe_load_all(f.read_text()) if o)]
    assert check_security(every).status == "PASS"
    # The bug it catches: the pause pods once had no policy (checkov passed them).
    without_warm_policy = [
        o
        for o in every
        if not (o["kind"] == "NetworkPolicy" and o["metadata"]["namespace"] == "gpu-warm-capacity")
    ]
    assert check_security(without_warm_policy).details == [
        "Deployment/warm-gpu-spot-ng: no NetworkPolicy in namespace gpu-warm-capacity selects "
        "its pods"
    ]
    # A policy selecting every pod of another namespace (the smoke test's) does not count.
    without_plugin_policy = [
        o
        for o in every
        if (o["kind"], o["metadata"]["name"]) != ("NetworkPolicy", "nvidia-device-plugin-deny-all")
    ]
    assert check_security(without_plugin_policy).details == [
        "DaemonSet/nvidia-device-plugin-daemonset: no NetworkPolicy in namespace kube-system "
        "selects its pods"
    ]


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({}, True),  # the empty selector: every pod of the namespace
        ({"matchLabels": {"app": "a"}}, True),
        ({"matchLabels": {"app": "a", "tier": "x"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["a", "b"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["a"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "NotIn", "values": ["x"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, False),
        (
            {
                "matchLabels": {"app": "a"},
                "matchExpressions": [{"key": "tier", "operator": "Exists"}],
            },
            False,
        ),
    ],
)
def test_label_selectors_follow_kubernetes(selector: dict[str, Any], selected: bool) -> None:
    """The LabelSelector API reference ("The result of matchLabels and matchExpressions are
    ANDed. An empty label selector matches all objects") and apimachinery's
    ``Requirement.Matches`` (pkg/labels/selector.go: NotIn and DoesNotExist return true when
    the key is absent; In and Exists false)."""
    assert selects(selector, {"app": "a"}) is selected


# --- Replacement safety ----------------------------------------------------------------------


def test_renaming_the_cluster_is_refused(default_synth: Synthesis) -> None:
    renamed = {k.replace("gpu-spot", "other"): v for k, v in default_synth.templates.items()}
    result = check_replacement(default_synth.templates, renamed, "us-west-2")
    assert result.status == "FAIL"
    assert result.details[0].startswith("stack gpu-spot-cluster is no longer produced")


def test_vpc_replacement_alone_is_refused(default_synth: Synthesis) -> None:
    changed = copy.deepcopy(default_synth.templates)
    changed["gpu-spot-network"]["Resources"]["Vpc8378EB38"]["Properties"]["CidrBlock"] = (
        "10.7.0.0/16"
    )
    result = check_replacement(default_synth.templates, changed, "us-west-2")
    assert result.status == "FAIL"
    assert any(
        d.startswith(
            "stack gpu-spot-network changes the value of "
            "gpu-spot-network:ExportsOutputRefVpc8378EB38272D6E3A, which the deployed "
            "gpu-spot-cluster imports: CloudFormation refuses"
        )
        for d in result.details
    )
    [vpc] = [d for d in result.details if d.startswith("gpu-spot-network/Vpc8378EB38 ")]
    assert vpc.startswith(
        "gpu-spot-network/Vpc8378EB38 (AWS::EC2::VPC) is replaced: CidrBlock changed: "
        "rebuilds the network under the running cluster; and replaces 32 resource(s) that refer "
        "to it: ClusterControlPlaneSecurityGroupD274242C (AWS::EC2::SecurityGroup), "
    )
    assert "VpcPublicSubnet3SubnetBE12F0B6 (AWS::EC2::Subnet)" in vpc
    assert "GpuSpotNgANodegroupC50C1657 (AWS::EKS::Nodegroup)" in vpc


def test_a_stack_moving_to_another_account_is_a_second_cluster(default_synth: Synthesis) -> None:
    before = {n: "aws://111111111111/us-west-2" for n in default_synth.templates}
    after = {n: "aws://222222222222/us-west-2" for n in default_synth.templates}
    result = check_replacement(
        default_synth.templates, default_synth.templates, "us-west-2", (before, after)
    )
    assert result.status == "FAIL"
    assert result.details[0] == (
        "stack gpu-spot-cluster moves from account 111111111111 to 222222222222: CloudFormation "
        "stacks do not move; deploying creates a second copy (a second cluster) in "
        "222222222222, and the one in 111111111111 keeps running (and billing) until you "
        "destroy it there"
    )


def test_an_account_agnostic_baseline_is_not_called_a_move(default_synth: Synthesis) -> None:
    """Unset account (``unknown-account``): where it was deployed is not known, so no claim."""
    before = {n: "aws://unknown-account/us-west-2" for n in default_synth.templates}
    after = {n: "aws://222222222222/us-west-2" for n in default_synth.templates}
    result = check_replacement(
        default_synth.templates, default_synth.templates, "us-west-2", (before, after)
    )
    assert result.status == "PASS"


def test_a_baseline_is_read_through_its_manifest_not_a_glob(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    """A stale template of another stack in the baseline folder would give a false FAIL."""
    outdir = Path(shutil.copytree(default_synth.outdir, tmp_path / "deployed.out"))
    (outdir / "other-network.template.json").write_text(
        (outdir / "gpu-spot-network.template.json").read_text()
    )
    baseline = read_assembly(outdir)
    assert set(baseline.templates) == {"gpu-spot-network", "gpu-spot-cluster"}
    assert baseline.environments == {
        "gpu-spot-network": "aws://unknown-account/us-west-2",
        "gpu-spot-cluster": "aws://unknown-account/us-west-2",
    }


def test_removing_an_add_on_says_what_is_deleted(default_synth: Synthesis) -> None:
    changed = copy.deepcopy(default_synth.templates)
    del changed["gpu-spot-cluster"]["Resources"]["KubeProxy4F190541"]
    result = check_replacement(default_synth.templates, changed, "us-west-2")
    assert result.details == [
        "gpu-spot-cluster/KubeProxy4F190541 (AWS::EKS::Addon) is removed: "
        "CloudFormation deletes it: EKS deletes the add-on and its pods"
    ]


def test_a_node_group_replaced_under_its_old_name_is_refused(default_synth: Synthesis) -> None:
    """CloudFormation cannot create the replacement while the old group holds the name."""
    changed = copy.deepcopy(default_synth.templates)
    group = changed["gpu-spot-cluster"]["Resources"]["GpuSpotNgANodegroupC50C1657"]
    group["Properties"]["InstanceTypes"] = ["g6.xlarge"]
    assert check_replacement(default_synth.templates, changed, "us-west-2").status == "PASS"
    result = check_disruption(default_synth.templates, changed, "us-west-2", allow_disruption=True)
    assert (result.status, result.details) == (
        "FAIL",
        [
            "node group gpu-spot-ng-a-bee838 would be replaced (InstanceTypes changed) under the "
            "same name: CloudFormation cannot create a resource with a custom name that is still "
            "taken, so the update fails (the name must change with every create-only property)"
        ],
    )


def test_cluster_replacement_is_refused(default_synth: Synthesis) -> None:
    changed = copy.deepcopy(default_synth.templates)
    changed["gpu-spot-cluster"]["Resources"]["ClusterEB0386A7"]["Properties"]["Name"] = "x"
    result = check_replacement(default_synth.templates, changed, "us-west-2")
    assert result.status == "FAIL"
    assert result.details[0].startswith(
        "gpu-spot-cluster/ClusterEB0386A7 (AWS::EKS::Cluster) is replaced: Name changed: "
        "deletes the cluster and every workload on it; and replaces "
    )


# --- The command -----------------------------------------------------------------------------


@pytest.mark.slow
@full_matrix_only  # locally, the CLI tier runs the whole verify on the capacity example
def test_verify_command_passes_on_the_default_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--outdir", str(tmp_path / "out")]) == 0
    report = capsys.readouterr().out
    checks = (
        "config",
        "synth",
        "cdk-nag",
        "cfn-lint",
        "checkov",
        "k8s-schema",
        "k8s-security",
        "autoscaler",
        "zones",
        "volume-zone",
    )
    for check in checks:
        assert f"  PASS  {check}" in report
    assert "  PASS  config        the defaults in cdk.json are valid\n" in report
    assert report.rstrip().splitlines()[-3:] == [
        "verify: OK",
        "next:  deploy it:  source scripts/env.sh && cdk deploy --all",
        "       once deployed, keep the baseline for verify --baseline deployed.out:  "
        f"rm -rf deployed.out && cp -r {tmp_path / 'out'} deployed.out",
    ]


def test_next_step_deploys_the_verified_config_and_refreshes_the_baseline() -> None:
    assert next_steps("my cluster.yaml", "cdk.out") == [
        "deploy it:  source scripts/env.sh && cdk deploy --all -c config='my cluster.yaml'",
        "once deployed, keep the baseline for verify --baseline deployed.out:  "
        "rm -rf deployed.out && cp -r cdk.out deployed.out",
    ]


def test_a_failed_report_prints_no_next_step() -> None:
    out = io.StringIO()
    failed = [CheckResult("synth", "FAIL", "broken")]
    assert print_report("t", failed, out, next_steps(None, "cdk.out")) is False
    assert "next:" not in out.getvalue()


def test_verify_command_reports_a_broken_config_without_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "cluster.yaml"
    config.write_text("gpu_pools:\n  - name: x\n")
    assert main(["-c", f"config={config}", "--outdir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "gpu_pools.0.instance_types: required field is missing" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists()


def test_cfn_lint_that_cannot_run_is_a_failure(default_synth: Synthesis, tmp_path: Path) -> None:
    unreadable = tmp_path / ".cfnlintrc.yaml"
    unreadable.write_text("ignore_checks: [\n")
    result = check_cfn_lint(templates_of(default_synth), unreadable)
    assert (result.status, result.summary) == ("FAIL", "cfn-lint did not run")
    assert result.details[0].startswith(".cfnlintrc.yaml: ParserError"), result.details


def test_cfn_lint_crashing_is_a_failed_check_not_an_internal_error(
    default_synth: Synthesis, monkeypatch: pytest.MonkeyPatch
) -> None:
    from cfnlint.runner.cli import Runner

    def crash(self: Runner) -> None:
        raise KeyError("a rule cfn-lint could not load")

    monkeypatch.setattr(Runner, "run", crash)
    result = check_cfn_lint(templates_of(default_synth))
    assert (result.status, result.summary) == ("FAIL", "cfn-lint did not run")
    assert result.details == ["KeyError: 'a rule cfn-lint could not load'"]


def test_policy_checks_can_be_skipped_for_quick_local_synths(tmp_path: Path) -> None:
    app = cdk.App(outdir=str(tmp_path), context={"policy_checks": "false"})
    add_policy_checks(app)
    s3.CfnBucket(cdk.Stack(app, "Careless"), "Bucket")
    app.synth()  # no ValidationFailed
    report = tmp_path / "validation-report.json"
    plugins = json.loads(report.read_text())["pluginReports"] if report.exists() else []
    assert "AwsSolutions" not in [p["pluginName"] for p in plugins]


def test_verify_reads_only_the_stacks_its_synth_wrote(
    default_synth: Synthesis, tmp_path: Path
) -> None:
    """Another cluster's templates left in the folder are neither read nor scanned."""
    outdir = Path(shutil.copytree(default_synth.outdir, tmp_path / "cdk.out"))
    stale = outdir / "other-cluster-cluster.template.json"
    stale.write_text((outdir / "gpu-spot-cluster.template.json").read_text())
    assert set(stack_templates(outdir)) == {"gpu-spot-network", "gpu-spot-cluster"}
    assert stale not in synthesized_files(outdir)


@pytest.mark.parametrize(
    ("baseline", "expected"),
    [
        ("cdk.json", "Invalid baseline config --baseline cdk.json (5 problem(s)):"),
        ("no-such-dir", "--baseline no-such-dir: no such file or folder"),
        ("examples", "--baseline examples: no manifest.json in it (not a cdk.out)"),
    ],
)
def test_a_bad_baseline_is_named_as_the_baselines_problem(
    baseline: str,
    expected: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(ROOT)
    assert main(["--baseline", baseline, "--outdir", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(expected)
    assert err.rstrip().endswith("verify: FAILED (baseline)")
    assert "verify: FAILED (config)" not in err


def test_allow_disruption_without_a_baseline_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing to allow without a baseline: a flag that silently did nothing would mislead."""
    with pytest.raises(SystemExit) as exit_info:
        main(["--allow-disruption"])
    assert exit_info.value.code == 2
    assert "--allow-disruption needs --baseline" in capsys.readouterr().err


STALE = ("manifest.json", "x-cluster.template.json", "validation-report.json", "manifests/a.yaml")


def _stale_synth(outdir: Path) -> None:
    (outdir / "manifests").mkdir(parents=True)
    for name in STALE:
        (outdir / name).write_text("{}")


def test_an_invalid_config_leaves_no_earlier_synth_in_the_outdir(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Bug caught: verify returned on a config error before clearing --outdir, so the previous
    run's templates (and cdk-nag's 'success' report) stayed there for cdk deploy to pick up."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("nat_gateways: 0\n")
    outdir = tmp_path / "cdk.out"
    _stale_synth(outdir)
    assert main(["-c", f"config={bad}", "--outdir", str(outdir)]) == 2
    assert "verify: FAILED (config)" in capsys.readouterr().err
    assert [name for name in STALE if (outdir / name).exists()] == []


def test_an_invalid_config_never_deletes_the_baseline_it_was_to_compare_with(
    tmp_path: Path,
) -> None:
    """--outdir may be the --baseline folder: a config error must not delete the baseline."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("nat_gateways: 0\n")
    outdir = tmp_path / "deployed.out"
    _stale_synth(outdir)
    assert main(["-c", f"config={bad}", "--outdir", str(outdir), "--baseline", str(outdir)]) == 2
    assert [name for name in STALE if (outdir / name).exists()] == list(STALE)
