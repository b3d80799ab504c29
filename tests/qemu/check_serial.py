#!/usr/bin/env python3
"""Checks what came out of a QEMU run: JSON record lines, mixed with console lines.

    python3 tests/qemu/check_serial.py LOG MODE

MODE `user`: qemu-user, where perf_event_open gives ENOSYS: every counter is reported unavailable
with that reason and is null in every op record, and the run still measures the model.
MODE `virt`: a full-system boot with the emulated PMU: `cycles` is available and counted in op
records, the run ends with an end record and the end marker.
Prints a summary line and exits non-zero on any failed check.
"""
import json
import sys

path, mode = sys.argv[1], sys.argv[2]
text = open(path, errors="replace").read()
records = [json.loads(l) for l in text.splitlines() if l.startswith('{"type":')]
kinds = [r["type"] for r in records]
failures = []


def check(ok, what):
    if not ok:
        failures.append(what)


header = next((r for r in records if r["type"] == "header"), None)
check(header is not None, "a header record")
check(kinds and kinds[0] == "header", "the header first")
models = [r for r in records if r["type"] == "model"]
ops = [r for r in records if r["type"] == "op"]
check(len(models) >= 1, "at least one model record")
check(kinds and kinds[-1] == "end", "the end record last")
check(all(m["latency_ns"]["median"] > 0 for m in models), "positive latencies")
check(all(m["output_shapes"] for m in models), "output shapes")
if header:
    check(header["context"]["arch"] == "aarch64", "arch aarch64 in the context")
    events = {e["name"]: e for e in header["events"]}
    if mode == "user":
        for name, e in events.items():
            check(not e["available"] and "ENOSYS" in (e["reason"] or ""), f"{name}: ENOSYS reason")
        check(all(v is None for op in ops for v in op["counters"].values()), "null counters")
    else:
        check(events["cycles"]["available"], "cycles available through the emulated PMU")
        cycles = [op["counters"]["cycles"] for op in ops]
        check(all(c is not None and c["median"] > 0 for c in cycles), "cycles counted per op")
        check(all(c["running_ratio"] == 1.0 for c in cycles if c), "no multiplexing")
        check("HIDDENCOST-END" in text, "the end marker on the console")
        notes = [r["message"] for r in records if r["type"] == "error" and r["model"] == "run"]
        check(any("boot partition" in n for n in notes), "the missing card reported as a run note")
summary = f"{path}: {mode}: {len(records)} records ({len(ops)} ops, {len(models)} models)"
if failures:
    print(summary + "; FAILED: " + "; ".join(failures))
    sys.exit(1)
print(summary + "; all checks passed")
