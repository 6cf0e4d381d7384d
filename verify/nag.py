"""cdk-nag's AwsSolutions pack, as recorded in the synth's policy-validation report."""

from __future__ import annotations

from typing import Any

from verify.report import CheckResult


def check_nag(report: dict[str, Any], policy_error: str | None) -> CheckResult:
    packs = [p for p in report.get("pluginReports", []) if p["pluginName"] == "AwsSolutions"]
    if not packs:
        return CheckResult("cdk-nag", "FAIL", "the AwsSolutions pack did not run")
    (pack,) = packs
    details = [
        f"{v['ruleName']} at {', '.join(c['constructPath'] for c in v['violatingConstructs'])}"
        for v in pack["violations"]
    ]
    acknowledged = len(pack.get("suppressedViolations", []))
    if details or policy_error:
        return CheckResult(
            "cdk-nag", "FAIL", f"AwsSolutions: {len(details)} unacknowledged finding(s)", details
        )
    return CheckResult(
        "cdk-nag", "PASS", f"AwsSolutions: no unacknowledged finding ({acknowledged} acknowledged)"
    )
