"""EBS gp3 limits that EC2 enforces when it creates a volume: refused at synth instead.

Sources (read 2026-12-02): the EC2 API model shipped in botocore 1.44.5 (``CreateVolume``
``Iops``: "gp3: 3,000 (default) - 80,000 IOPS"; ``Throughput``: "Valid Range: 125 - 2000
MiB/s"; ``LaunchTemplateEbsBlockDeviceRequest`` says the same), and the EC2 User Guide,
"General Purpose SSD volumes" (gp3: a baseline of 3,000 IOPS and 125 MiB/s at any size; at most
500 IOPS per GiB of size and 0.25 MiB/s of throughput per provisioned IOPS). aws-cdk-lib 2.275
checks the range and the ratio only when both values are given (``aws-ec2/lib/private/
ebs-util.js``); a throughput above 750 MiB/s with the default 3,000 IOPS passes it and fails
at deploy, so the ratio here uses the IOPS the volume will really have.
"""

from __future__ import annotations

GP3_BASELINE_IOPS = 3000
GP3_MAX_IOPS = 80000
GP3_BASELINE_THROUGHPUT_MIBPS = 125
GP3_MAX_THROUGHPUT_MIBPS = 2000
GP3_MAX_IOPS_PER_GIB = 500
GP3_MAX_THROUGHPUT_PER_IOPS = 0.25


def gp3_problems(size_gib: int, throughput_mibps: int | None, iops: int | None) -> list[str]:
    """Each broken rule as ``<field>: <problem>`` (fields ``throughput_mibps`` and ``iops``);
    ``None`` means the gp3 baseline (EC2's default)."""
    problems = []
    effective_iops = iops if iops is not None else GP3_BASELINE_IOPS
    if iops is not None and iops > size_gib * GP3_MAX_IOPS_PER_GIB:
        problems.append(
            f"iops: {iops} is more than {GP3_MAX_IOPS_PER_GIB} IOPS per GiB of a {size_gib} GiB "
            f"volume; allowed: at most {size_gib * GP3_MAX_IOPS_PER_GIB} (EBS gp3 limit), or a "
            "larger volume"
        )
    if throughput_mibps is not None and throughput_mibps > effective_iops * (
        GP3_MAX_THROUGHPUT_PER_IOPS
    ):
        needed = -(-throughput_mibps * 4 // 1)  # 1 / GP3_MAX_THROUGHPUT_PER_IOPS, rounded up
        shown = f"{iops}" if iops is not None else f"unset (gp3 default {GP3_BASELINE_IOPS})"
        problems.append(
            f"throughput_mibps: {throughput_mibps} MiB/s needs at least {needed} IOPS (EBS gp3 "
            f"allows {GP3_MAX_THROUGHPUT_PER_IOPS} MiB/s per IOPS) but iops is {shown}; set iops: "
            f"{max(needed, GP3_BASELINE_IOPS)} or more"
        )
    return problems
