#!/usr/bin/env python3
"""Profiling cost, paired: repeats one `hiddencost bench` command with each --schedule and prints
every model's per-op/clean ratio (the model record's `paired.profiled_over_clean`: median over
rounds and its 95% interval), the unpaired ratio of medians beside it, and whether the repeats'
intervals overlap. The table of BENCHMARKS.md, section 2, comes from it:

    python3 benches/paired.py --hiddencost target/release/hiddencost --repeat 3 \
        -- zoo:resnet50 zoo:shufflenetv2 zoo:mobilenet --runs 30 --warmup 5

Standard library only. Raw model records go to --out (JSON) when given.
"""

import argparse
import json
import os
import subprocess
import sys
import time


def bench(binary, args, schedule):
    """Runs one bench and returns its model records by name."""
    cmd = [binary, "-q", "bench", *args, "--schedule", schedule, "--out", "-"]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    models = {}
    for line in out.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "model":
            models[rec["model"]] = rec
    return models


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--hiddencost", required=True, help="the hiddencost binary")
    ap.add_argument("--repeat", type=int, default=3, help="identical runs per schedule")
    ap.add_argument(
        "--schedules", default="interleaved,separate", help="comma-separated --schedule values"
    )
    ap.add_argument("--out", help="write every model record here (JSON)")
    ap.add_argument("bench_args", nargs="+", help="after --: the bench arguments")
    a = ap.parse_args()

    raw = {}
    for schedule in a.schedules.split(","):
        for rep in range(a.repeat):
            load = os.getloadavg()[0]
            t0 = time.time()
            models = bench(a.hiddencost, a.bench_args, schedule)
            took = time.time() - t0
            print(
                f"{schedule} #{rep + 1}: {took:.0f} s, load average {load:.2f} at the start",
                file=sys.stderr,
            )
            for name, rec in models.items():
                raw.setdefault(schedule, {}).setdefault(name, []).append(rec)

    print("| schedule | model | repeat | per-op/clean [95% interval] | half-width | "
          "ratio of medians | clean CV | warnings |")
    print("| --- | --- | ---: | --- | ---: | ---: | ---: | --- |")
    verdicts = []
    for schedule, models in raw.items():
        for name, recs in models.items():
            spans = []
            for i, rec in enumerate(recs):
                p = rec["paired"]["profiled_over_clean"]
                half = (p["high"] - p["low"]) / 2 / p["median"]
                spans.append((p["low"], p["high"], half))
                lat = rec["latency_ns"]
                unpaired = rec["profiled_latency_median_ns"] / lat["median"]
                cv = lat["stddev"] / lat["mean"] if lat["mean"] else 0.0
                kinds = ",".join(w["kind"] for w in rec["warnings"]) or "none"
                print(
                    f"| {schedule} | {name} | {i + 1} | {p['median']:.3f} "
                    f"[{p['low']:.3f}-{p['high']:.3f}] | ±{half * 100:.1f}% | "
                    f"{unpaired:.3f} | {cv * 100:.1f}% | {kinds} |"
                )
            overlap = max(s[0] for s in spans) <= min(s[1] for s in spans)
            widest = max(s[2] for s in spans)
            verdicts.append(
                f"{schedule} {name}: intervals {'overlap' if overlap else 'do NOT overlap'}, "
                f"widest ±{widest * 100:.1f}%"
            )
    print()
    for v in verdicts:
        print(f"- {v}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(raw, f, indent=1)


if __name__ == "__main__":
    main()
