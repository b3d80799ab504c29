#!/usr/bin/env python3
"""Checks that an analysis explained every op against its log's machine roofs.

    python3 tests/check_bounds.py REPORT_DIR

REPORT_DIR is what `hiddencost analyze LOG --out REPORT_DIR` wrote for a log whose header has a
`machine` object (the probe ran). In ops.csv every op must have a bound, its terms, a limiter
and an excess; report.md must list no op that computes no MACs above the peak MAC rate, no
kernel beyond the limit a roof may be raised to (a kernel merely faster than the probe raises
its model's roof, and is counted in the summary), and open with Findings that
answer RQ1-RQ4 (a number or a reason each). Prints a summary and exits non-zero on a failure.
"""
import csv
import pathlib
import sys

report = pathlib.Path(sys.argv[1])
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


rows = list(csv.DictReader(open(report / "ops.csv")))
check(rows, "ops.csv has ops")
for r in rows:
    for col in ("bound_ns", "compute_ns", "memory_ns", "memory_level", "floor_ns", "limiter",
                "excess_ns"):
        if not r[col]:
            failures.append(f"{r['model']} {r['node']}: no {col}")
            break
limiters = sorted({r["limiter"] for r in rows})
check(all(l in ("compute", "overhead") or l.startswith("memory:") for l in limiters),
      f"limiters are compute, memory:LEVEL or overhead: {limiters}")
md = (report / "report.md").read_text()
check("MACs are attributed wrongly" not in md, "no op that computes no MACs above the peak")
beaten = [l for l in md.splitlines() if "x the probe's peak MAC rate (up to" in l]
check(not beaten, "no kernel op beyond the limit a model's roof may be raised to")
raised = [l for l in md.splitlines() if "ran above the probe's peak of" in l]
first = next((l for l in md.splitlines() if l.startswith("## ")), "")
check(first == "## Findings", f"report.md opens with Findings, not {first!r}")
for q in ("RQ1.", "RQ2.", "RQ3.", "RQ4."):
    check(any(q in l for l in md.splitlines()), f"Findings answer {q}")
check("Time above the roofs: not computed" not in md, "the time above the roofs is computed")

summary = (f"{report}: {len(rows)} ops bounded, limiters {', '.join(limiters)}")
if raised:
    summary += f"; {len(raised)} model(s) with kernels above the probe's peak (roof raised)"
if beaten:
    summary += "; " + "; ".join(l.lstrip("- ").split(":")[0] + ": " + l.split(" (up to ")[1].split(")")[0]
                               + " the peak" for l in beaten)
if failures:
    print(summary + "; FAILED: " + "; ".join(failures[:10]))
    sys.exit(1)
print(summary + "; every check passed")
