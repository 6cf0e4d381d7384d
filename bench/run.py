#!/usr/bin/env python3
"""Synth benchmark: the full app against the bare-cluster floor (bench/floor_app.py).

Each synth is a fresh ``python <app>`` process, as ``cdk synth`` starts one (the CDK CLI's own
start-up, the same for both, is left out). Runs alternate full/floor after a warm-up, so both see
the same machine state. Peak memory is the peak of the summed RSS of the app's process tree
(Python and the jsii Node.js kernel), sampled every 20 ms.

    python bench/run.py [--runs 5] [--no-tests] [--first-run]

``--first-run`` instead times set-up + synth and set-up + tests from a fresh clone with empty
caches against a plain-pip floor (bench/first_run.py).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CONTEXT: dict[str, Any] = json.loads((ROOT / "cdk.json").read_text())["context"]
APPS = {
    "full": ROOT / "app.py",
    "no-nag": ROOT / "app.py",  # the full app with -c policy_checks=false
    "floor": ROOT / "bench" / "floor_app.py",
    # The floor with app.py's two process-level choices, the like-for-like floor: it ends as
    # app.py does (cli/outcome.py finish(): no wait for the jsii kernel, no interpreter
    # teardown) and skips aws-cdk-lib's built-in CloudFormation validation as app.py does
    # (stacks/__init__.py new_app; here through aws-cdk-lib's CDK_VALIDATION=false).
    "floor-x": ROOT / "bench" / "floor_app.py",
}


@dataclass
class Run:
    seconds: float
    peak_rss_mib: float
    outdir: Path


def tree_rss_kib(pid: int) -> int:
    """Summed VmRSS of ``pid`` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        ppid = int(fields.get("PPid", "0").strip())
        children.setdefault(ppid, []).append(int(entry))
        rss[int(entry)] = int(fields.get("VmRSS", "0 kB").split()[0])
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        total += rss.get(current, 0)
        stack.extend(children.get(current, []))
    return total


def synth(app: str, outdir: Path, config_path: Path | None = None) -> Run:
    context = dict(CONTEXT)
    if app == "no-nag":
        context["policy_checks"] = "false"
    if app == "floor-x":
        context["fast_exit"] = "true"
    if config_path:
        context["config"] = str(config_path)
    env = {**os.environ, "CDK_OUTDIR": str(outdir), "CDK_CONTEXT_JSON": json.dumps(context)}
    if app == "floor-x":
        env["CDK_VALIDATION"] = "false"
    start = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, str(APPS[app])],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = 0
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, tree_rss_kib(process.pid))
            stop.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, stderr = process.communicate()
    seconds = time.perf_counter() - start
    stop.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{app} synth failed:\n{stderr}")
    return Run(seconds, peak / 1024, outdir)


def output_stats(outdir: Path) -> dict[str, int]:
    stats = {"template_bytes": 0, "resources": 0, "lambdas": 0, "custom_resources": 0}
    for path in outdir.glob("*.template.json"):
        stats["template_bytes"] += path.stat().st_size
        for resource in json.loads(path.read_text()).get("Resources", {}).values():
            kind = resource["Type"]
            stats["resources"] += 1
            stats["lambdas"] += kind == "AWS::Lambda::Function"
            stats["custom_resources"] += kind.startswith("Custom::") or (
                kind == "AWS::CloudFormation::CustomResource"
            )
    return stats


def gpu_config(count: int, scratch: Path) -> Path:
    """The default config with ``count`` GPU groups spread over the three zones (one single-zone
    pool per group)."""
    pools = []
    template = CONTEXT["cluster"]["gpu_pools"][0]
    for index in range(count):
        zone = CONTEXT["cluster"]["availability_zones"][index % 3]
        pools.append(
            copy.deepcopy(template) | {"name": f"gpu-{index + 1}", "availability_zones": [zone]}
        )
    path = scratch / f"gpu-{count}.json"
    path.write_text(json.dumps({"gpu_pools": pools}))
    return path


def autoscaler_check_seconds(outdir: Path) -> float:
    """Median time of verify's ``autoscaler`` check on a synthesized output (in-process)."""
    sys.path.insert(0, str(ROOT))
    from verify.autoscaler.check import check_autoscaler
    from verify.manifests import attached_objects

    templates = {p.name: json.loads(p.read_text()) for p in outdir.glob("*.template.json")}
    cluster = next(t for name, t in templates.items() if name.endswith("-cluster.template.json"))
    network = next(t for name, t in templates.items() if name.endswith("-network.template.json"))
    times = []
    for _ in range(5):
        start = time.perf_counter()
        check_autoscaler(cluster, network, attached_objects(cluster))
        times.append(time.perf_counter() - start)
    return median(times)


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="measured runs per app (default 5)")
    parser.add_argument("--scaling-runs", type=int, default=3, help="runs per GPU-group count")
    parser.add_argument("--no-tests", action="store_true", help="skip timing the test suite")
    parser.add_argument(
        "--first-run", action="store_true", help="fresh-clone set-up benchmark (first_run.py)"
    )
    args = parser.parse_args()
    if args.first_run:
        sys.path.insert(0, str(ROOT / "bench"))
        import first_run

        sys.argv = [sys.argv[0], *(["--no-tests"] if args.no_tests else [])]
        first_run.main()
        return

    python = platform.python_version()
    print(f"machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {python}")
    print(f"         {platform.platform()}")
    with tempfile.TemporaryDirectory() as scratch_dir:
        scratch = Path(scratch_dir)
        runs: dict[str, list[Run]] = {app: [] for app in APPS}
        for app in APPS:  # warm-up: disk cache, .pyc files
            synth(app, scratch / f"warm-{app}")
        for i in range(args.runs):
            for app in APPS:
                runs[app].append(synth(app, scratch / f"{app}-{i}"))

        print(f"\nsynth, {args.runs} alternating runs each after a warm-up (median):")
        print(
            f"  {'':7} {'seconds':>8} {'peak MiB':>9} {'template KB':>12} {'resources':>10} "
            f"{'lambdas':>8} {'custom res.':>12}"
        )
        medians = {}
        for app in APPS:
            seconds = median([r.seconds for r in runs[app]])
            memory = median([r.peak_rss_mib for r in runs[app]])
            stats = output_stats(runs[app][-1].outdir)
            medians[app] = (seconds, memory)
            print(
                f"  {app:7} {seconds:8.2f} {memory:9.0f} {stats['template_bytes'] / 1000:12.1f} "
                f"{stats['resources']:10d} {stats['lambdas']:8d} {stats['custom_resources']:12d}"
            )
        time_ratio = medians["full"][0] / medians["floor"][0]
        memory_ratio = medians["full"][1] / medians["floor"][1]
        print(
            f"  ratio full/floor (the floor with aws-cdk-lib's defaults): time {time_ratio:.2f}, "
            f"peak memory {memory_ratio:.2f} (target <= 1.2)"
        )
        no_nag = medians["no-nag"][0] / medians["floor"][0]
        print(f"  without cdk-nag (-c policy_checks=false): time ratio {no_nag:.2f}")
        like_for_like = medians["full"][0] / medians["floor-x"][0]
        print(
            "  full/floor-x (the floor with app.py's fast exit and no built-in CloudFormation "
            f"validation): time ratio {like_for_like:.2f} (target <= 1.25)"
        )

        print(f"\nfull synth by number of GPU node groups ({args.scaling_runs} runs each, median):")
        points = []
        for count in (3, 6, 12):
            config = gpu_config(count, scratch)
            seconds = median(
                [
                    synth("full", scratch / f"gpu{count}-{i}", config).seconds
                    for i in range(args.scaling_runs)
                ]
            )
            stats = output_stats(scratch / f"gpu{count}-0")
            points.append((count, seconds))
            check = autoscaler_check_seconds(scratch / f"gpu{count}-0")
            print(
                f"  {count:3d} GPU groups: {seconds:6.2f} s, {stats['resources']} resources; "
                f"verify's autoscaler check {check * 1000:.0f} ms (target <= 1000)"
            )
        (n0, t0), (n2, t2) = points[0], points[-1]
        per_group = (t2 - t0) / (n2 - n0)
        print(
            f"  marginal cost {per_group * 1000:.0f} ms per GPU group; "
            f"12 groups cost {t2 / t0:.2f}x of 3 groups (linear would be up to 4x)"
        )

    if not args.no_tests:
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        elapsed = time.perf_counter() - start
        last = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else "no output"
        print(f"\ntest suite: {elapsed:.1f} s wall ({last}) (2 workers; target < 90 s)")


if __name__ == "__main__":
    main()
