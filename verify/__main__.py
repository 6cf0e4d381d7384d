"""``python -m verify [-c config=PATH] [--baseline PATH [--allow-disruption]] [--outdir DIR]
[--live]``: the pre-deploy report."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import tempfile
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from cli.outcome import (
    EXIT_CONFIG_ERROR,
    finish,
    internal_errors_reported,
    remove_synth_output,
)
from cluster_config import ClusterConfig, ConfigError, load_config
from verify.autoscaler.check import check_autoscaler
from verify.capacity import check_capacity
from verify.cfn_lint import check_cfn_lint
from verify.checkov import CheckovProcess, check_checkov, synthesized_files
from verify.cold_start import check_cold_start
from verify.cost import check_cost
from verify.disruption import ALLOW_FLAG, check_disruption
from verify.eks_posture import check_eks_posture, stack_properties
from verify.live import LiveFacts, ask_account, check_live
from verify.manifests import attached_objects, check_schema, check_security
from verify.nag import check_nag
from verify.node_user_data import check_node_user_data
from verify.pricing import offline_prices, with_live
from verify.quotas import check_quotas
from verify.replacement import check_replacement
from verify.report import CheckResult, print_report
from verify.synth import (
    ROOT,
    Assembly,
    Synthesis,
    read_assembly,
    stack_templates,
    synthesize,
)
from verify.volume_zones import check_volume_zones
from verify.zones import check_zones

EXIT_FAILED = 1


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    defaults = json.loads((ROOT / "cdk.json").read_text())["context"]["cluster"]
    try:
        config = load_config(defaults, args.config)
    except ConfigError as error:
        print(error.report(), file=sys.stderr)
        print("verify: FAILED (config)", file=sys.stderr)
        _remove_stale_output(args)
        return EXIT_CONFIG_ERROR
    try:
        # Read before synthesizing: --baseline may be the folder this synth writes to.
        baseline = _load_baseline(defaults, args.baseline)
    except BaselineError as error:
        print(error, file=sys.stderr)
        print("verify: FAILED (baseline)", file=sys.stderr)
        _remove_stale_output(args)
        return EXIT_CONFIG_ERROR

    # exit 3, one line, no traceback; checkov (its own process, the slowest check) imports while
    # the app synthesizes, then scans while the in-process checks run.
    with internal_errors_reported(Path(args.outdir)), CheckovProcess() as started:
        synthesis = synthesize(config, Path(args.outdir))
        with ThreadPoolExecutor(max_workers=1) as background:
            files = synthesized_files(Path(args.outdir))
            checkov = background.submit(check_checkov, files, None, started)
            results = _results(args, baseline, synthesis, checkov)
    title = f"{config.cluster_name} (Kubernetes {config.kubernetes_version}, {config.region})"
    steps = next_steps(args.config, args.outdir)
    return 0 if print_report(title, results, sys.stdout, steps) else EXIT_FAILED


def _remove_stale_output(args: argparse.Namespace) -> None:
    """Nothing left in ``--outdir`` that ``cdk deploy`` could take for this config's output, as
    after a failed synth; unless ``--outdir`` is the ``--baseline`` folder (never delete it)."""
    outdir = Path(args.outdir)
    if args.baseline is None or Path(args.baseline).resolve() != outdir.resolve():
        remove_synth_output(outdir, with_report=True)


def _results(
    args: argparse.Namespace,
    baseline: ClusterConfig | Assembly | None,
    synthesis: Synthesis,
    checkov: Future[CheckResult],
) -> list[CheckResult]:
    """Every check's result, in the report's order."""
    config = synthesis.config
    outdir = Path(args.outdir)
    node_groups = synthesis.stacks.node_groups
    offline = offline_prices(config.region)
    live = ask_account(config.region, node_groups, priced=offline.on_demand) if args.live else None
    facts = live if isinstance(live, LiveFacts) else None
    prices = (
        with_live(offline, facts.on_demand_prices, facts.spot_prices, facts.asked_on)
        if facts
        else offline
    )
    before = [
        CheckResult(
            "config",
            "PASS",
            f"{args.config} is valid" if args.config else "the defaults in cdk.json are valid",
        ),
        CheckResult("synth", "PASS", f"{len(synthesis.templates)} stacks in {args.outdir}/"),
        check_nag(synthesis.validation_report(), synthesis.policy_error),
        check_cfn_lint(list(stack_templates(outdir).values())),
        check_eks_posture(synthesis.templates, stack_properties(outdir)),
        check_node_user_data(synthesis.templates),
    ]
    after = [
        *_manifest_checks(synthesis),
        *_against_baseline(baseline, synthesis, allow_disruption=args.allow_disruption),
        *check_capacity(synthesis),
        check_zones(
            synthesis.cluster,
            synthesis.network,
            config.region,
            live=facts.zones if facts else None,
        ),
        check_quotas(
            config.region,
            node_groups,
            facts.quotas if facts else None,
            facts.asked_on if facts else None,
        ),
        check_cost(config, node_groups, prices=prices),
        check_cold_start(config, node_groups, attached_objects(synthesis.cluster)),
        *([check_live(live)] if args.live else []),
    ]
    return [*before, checkov.result(), *after]


def next_steps(config: str | None, outdir: str) -> list[str]:
    """What to run after a clean report: the deploy of this config, then the baseline to keep
    for the next verify (replaced, not copied into, when it exists)."""
    deploy = "cdk deploy --all" + (f" -c config={shlex.quote(config)}" if config else "")
    baseline = f"rm -rf deployed.out && cp -r {shlex.quote(outdir)} deployed.out"
    return [
        f"deploy it:  source scripts/env.sh && {deploy}",
        f"once deployed, keep the baseline for verify --baseline deployed.out:  {baseline}",
    ]


def _manifest_checks(synthesis: Synthesis) -> list[CheckResult]:
    objects = attached_objects(synthesis.cluster)
    return [
        check_schema(objects, synthesis.config.kubernetes_version),
        check_security(objects),
        check_autoscaler(synthesis.cluster, synthesis.network, objects),
        check_volume_zones(synthesis.cluster, synthesis.network, objects),
    ]


class BaselineError(Exception):
    """``--baseline`` names nothing this command can compare with."""


BASELINE_HELP = "pass the cdk.out of your last deploy, or the config file it was built from"


def _load_baseline(defaults: Any, baseline: str | None) -> ClusterConfig | Assembly | None:
    """The baseline's config (a file) or its stacks (a ``cdk.out`` folder), or None."""
    if baseline is None:
        return None
    path = Path(baseline)
    if path.is_dir():
        if not (path / "manifest.json").is_file():
            raise BaselineError(
                f"--baseline {baseline}: no manifest.json in it (not a cdk.out); {BASELINE_HELP}"
            )
        try:
            return read_assembly(path)
        except (OSError, ValueError, KeyError, TypeError) as error:
            raise BaselineError(
                f"--baseline {baseline}: its manifest.json or a template it lists cannot be "
                f"read ({type(error).__name__}: {error}); {BASELINE_HELP}"
            ) from None
    if not path.exists():
        raise BaselineError(f"--baseline {baseline}: no such file or folder; {BASELINE_HELP}")
    try:
        return load_config(defaults, baseline)
    except ConfigError as error:
        raise BaselineError(
            error.report(subject=f"baseline config --baseline {baseline}")
            + f"\n(the baseline, not -c config, is what failed; {BASELINE_HELP})"
        ) from None


def _against_baseline(
    baseline: ClusterConfig | Assembly | None, synthesis: Synthesis, *, allow_disruption: bool
) -> list[CheckResult]:
    """``replacement`` and ``disruption``: what deploying over the baseline replaces, removes,
    refuses and evicts."""
    if baseline is None:
        return [
            CheckResult(name, "SKIP", f"no --baseline: {BASELINE_HELP}")
            for name in ("replacement", "disruption")
        ]
    if isinstance(baseline, ClusterConfig):
        with tempfile.TemporaryDirectory() as scratch:
            synthesize(baseline, Path(scratch))
            old = read_assembly(Path(scratch))
    else:
        old = baseline
    new = read_assembly(synthesis.outdir)
    region = synthesis.config.region
    return [
        check_replacement(
            old.templates, new.templates, region, (old.environments, new.environments)
        ),
        check_disruption(old.templates, new.templates, region, allow_disruption=allow_disruption),
    ]


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="verify", description="Synthesize a cluster config and check it before deploy."
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="config=PATH",
        help="as with cdk: -c config=PATH selects the config file",
    )
    parser.add_argument("--config", help="config file (same as -c config=PATH)")
    parser.add_argument(
        "--baseline",
        help="what is deployed now: its cdk.out directory, or the config file it was built from",
    )
    parser.add_argument(
        ALLOW_FLAG,
        action="store_true",
        help="with --baseline: accept node group deletions, replacements and rolling updates "
        "that evict running pods (listed, not failed); changes EKS refuses still fail",
    )
    parser.add_argument("--outdir", default="cdk.out", help="where to synthesize (cdk.out)")
    parser.add_argument(
        "--live",
        action="store_true",
        help="also ask your AWS account (read-only, boto3's credentials): zone IDs, offerings, "
        "spot placement scores and prices, vCPU quotas, on-demand prices",
    )
    args = parser.parse_args(argv)
    if args.allow_disruption and args.baseline is None:
        parser.error(f"{ALLOW_FLAG} needs --baseline (what it allows is judged against it)")
    for item in args.context:
        key, _, value = item.partition("=")
        if key != "config" or not value:
            parser.error(f"-c {item}: only -c config=PATH is understood")
        args.config = value
    return args


if __name__ == "__main__":
    finish(main())  # the report is printed: skip the slow teardown (cli/outcome.py)
