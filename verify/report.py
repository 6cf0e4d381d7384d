"""One result per check, printed as a short readable report."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, TextIO

Status = Literal["PASS", "FAIL", "WARN", "SKIP"]


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: Status
    summary: str
    details: list[str] = field(default_factory=list)
    table: list[str] = field(default_factory=list)
    """Lines printed as they are, below the details (e.g. the autoscaler's view)."""

    @property
    def failed(self) -> bool:
        return self.status == "FAIL"


def print_report(
    title: str, results: list[CheckResult], out: TextIO, next_steps: Sequence[str] = ()
) -> bool:
    """Print the report, then ``next_steps`` when no check failed; True when none failed."""
    print(f"verify: {title}", file=out)
    for result in results:
        print(f"  {result.status:<4}  {result.name:<13} {result.summary}", file=out)
        for line in result.details:
            print(f"          - {line}", file=out)
        for line in result.table:
            print(f"          {line}", file=out)
    ok = not any(r.failed for r in results)
    failed = [r.name for r in results if r.failed]
    print("verify: OK" if ok else f"verify: FAILED ({', '.join(failed)})", file=out)
    if ok:
        for i, line in enumerate(next_steps):
            print(f"{'next:' if i == 0 else '':<7}{line}", file=out)
    return ok
