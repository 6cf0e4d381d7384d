"""The ``quotas`` line: the EC2 vCPU quotas the config draws from, at min and at max scale.

Offline (``verify.quota_needs``): what each quota must allow, against the default AWS documents
for a new account (data file and date named in the line): WARN when the config can ask for more
than that default (the quota may still have been raised in your account: the line prints the
command that reads it). With ``--live`` the account's own values (Service Quotas
GetServiceQuota) decide: FAIL when a quota is below what the groups need at ``min_size`` (a
deploy cannot start them), WARN when below what they can ask for at ``max_size``. A group whose
quota no source names (P6 spot: the data file's ``unknown``) is a WARN in both: the line says the
quota class is unknown and what to look for in Service Quotas, and names no code.
"""

from __future__ import annotations

from collections.abc import Mapping

from cluster_config.node_groups import NodeGroupSpecs
from verify.quota_needs import SERVICE_CODE, QuotaNeed, QuotaNeeds, UnknownNeed, quota_needs
from verify.report import CheckResult, Status

DATA = "verify/data/ec2-vcpu-quotas.json"


def check_quotas(
    region: str,
    node_groups: NodeGroupSpecs,
    live: Mapping[str, float | None] | None = None,
    asked_on: str | None = None,
) -> CheckResult:
    """``live``: quota code -> the account's value (None: could not be read)."""
    needs = quota_needs(node_groups)
    if live is None:
        return _offline(region, needs)
    return _live(region, needs, live, asked_on or "today")


def _offline(region: str, needs: QuotaNeeds) -> CheckResult:
    short = [n for n in needs.needs if _above_default(n)]
    details = [_need_line(n) for n in needs.needs]
    details += _unknown(needs) + _unclassified(needs)
    status: Status = "WARN" if short or needs.unknown else "PASS"
    basis = f"quota names and new-account defaults: AWS EC2 User Guide, read {needs.read_on}"
    summary = f"the config can ask for {_totals(needs)} at max scale"
    if short:
        summary += f", above a new account's default for {', '.join(n.quota.code for n in short)}"
    if needs.unknown:
        summary += f"; quota class unknown for {_unknown_families(needs)}"
    summary += "; your quotas are not read offline (verify --live reads them)"
    return CheckResult(
        "quotas",
        status,
        summary,
        [*details, f"{basis} ({DATA})"],
        [_read_command(region, n) for n in needs.needs]
        + [_request_command(region, n, n.max_vcpus) for n in short],
    )


def _live(
    region: str, needs: QuotaNeeds, values: Mapping[str, float | None], asked_on: str
) -> CheckResult:
    failures, warnings, fine, unread = [], [], [], []
    commands = []
    for need in needs.needs:
        value = values.get(need.quota.code)
        if value is None:
            unread.append(f"{need.quota.short} ({need.quota.code}): could not be read")
            continue
        have = f"{need.quota.short} quota {value:g} vCPUs"
        if value < need.min_vcpus:
            failures.append(
                f"{have}; this config needs {need.min_vcpus} at min scale "
                f"({', '.join(need.groups)}): the deploy cannot start them: "
                f"request {need.quota.code}"
            )
            commands.append(_request_command(region, need, need.max_vcpus))
        elif value < need.max_vcpus:
            warnings.append(
                f"{have}; this config can ask for {need.max_vcpus} at max scale: "
                f"request {need.quota.code}"
            )
            commands.append(_request_command(region, need, need.max_vcpus))
        else:
            fine.append(f"{have}; this config needs {need.min_vcpus} to {need.max_vcpus}")
    status: Status = (
        "FAIL" if failures else "WARN" if warnings or unread or needs.unknown else "PASS"
    )
    summary = f"your account's EC2 vCPU quotas in {region} (Service Quotas, asked {asked_on})"
    verdict = {
        "FAIL": "below what the groups need at min_size",
        "WARN": "below what the groups can ask for at max_size"
        if warnings
        else "some unread"
        if unread
        else f"quota class unknown for {_unknown_families(needs)}",
        "PASS": "each covers every group at max_size",
    }[status]
    return CheckResult(
        "quotas",
        status,
        f"{summary}: {verdict}",
        [*failures, *warnings, *unread, *fine, *_unknown(needs), *_unclassified(needs)],
        commands,
    )


def _above_default(need: QuotaNeed) -> bool:
    default = need.quota.new_account_default
    return default is not None and need.max_vcpus > default


def _need_line(need: QuotaNeed) -> str:
    quota = need.quota
    groups = len(need.groups)
    line = (
        f"{quota.short} ({quota.name}, {quota.code}): {need.min_vcpus} vCPUs at min scale, "
        f"{need.max_vcpus} at max scale ({groups} group{'s' if groups > 1 else ''})"
    )
    if quota.new_account_default is None:
        return line + "; no default published (set per account)"
    line += f"; a new account starts at {quota.new_account_default}"
    if _above_default(need):
        line += f": request at least {need.max_vcpus} ({quota.code}) unless yours was raised"
    return line


def _totals(needs: QuotaNeeds) -> str:
    return ", ".join(f"{n.quota.short} {n.max_vcpus} vCPUs" for n in needs.needs) or "nothing"


def _unknown_families(needs: QuotaNeeds) -> str:
    return ", ".join(
        dict.fromkeys(f"{f} {_capacity(u)}" for u in needs.unknown for f in u.families)
    )


def _capacity(need: UnknownNeed) -> str:
    return "spot" if need.capacity_type == "SPOT" else "on-demand"


def _unknown(needs: QuotaNeeds) -> list[str]:
    """One line per unknown quota class, its groups' vCPUs summed (as one quota would be)."""
    classes: dict[tuple[str, str, str], list[UnknownNeed]] = {}
    for u in needs.unknown:
        classes.setdefault((", ".join(u.families), _capacity(u), u.look_for), []).append(u)
    return [
        f"quota class unknown for {families} {capacity} ({', '.join(u.group for u in groups)}: "
        f"{sum(u.min_vcpus for u in groups)} vCPUs at min scale, "
        f"{sum(u.max_vcpus for u in groups)} at max scale); no source read ({DATA}, "
        f"{needs.read_on}) names its quota: check Service Quotas for EC2 '{look_for}' "
        f"(aws service-quotas list-service-quotas --service-code {SERVICE_CODE})"
        for (families, capacity, look_for), groups in classes.items()
    ]


def _unclassified(needs: QuotaNeeds) -> list[str]:
    if not needs.unclassified:
        return []
    return [f"no EC2 vCPU quota known for: {'; '.join(needs.unclassified)}"]


def _read_command(region: str, need: QuotaNeed) -> str:
    return (
        f"aws service-quotas get-service-quota --region {region} --service-code {SERVICE_CODE} "
        f"--quota-code {need.quota.code} --query Quota.Value"
    )


def _request_command(region: str, need: QuotaNeed, vcpus: int) -> str:
    return (
        f"aws service-quotas request-service-quota-increase --region {region} "
        f"--service-code {SERVICE_CODE} --quota-code {need.quota.code} --desired-value {vcpus}"
    )
