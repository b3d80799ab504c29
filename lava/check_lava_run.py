#!/usr/bin/env python3
"""Checks a lava-run of lava/qemu-aarch64.yaml (lava/run-qemu.sh): what came back through LAVA.

    python3 lava/check_lava_run.py LAVA_RUN_LOG RECORDS_JSONL

LAVA_RUN_LOG is what lava-run printed (one log entry per line); RECORDS_JSONL is what
`hiddencost lava-records LAVA_RUN_LOG` printed. Checks: the job passed; the monitors action
found its start and end markers; one `hiddencost` test result per model, in order, `pass`
with the model record's median latency in ms as its measurement (the serial line's result
line and the JSON record are two ways through LAVA: they must agree); the records are whole
JSON lines, the header first, the end record last and counting the model records.
Prints a summary line and exits non-zero on any failed check.
"""
import json
import os
import sys

import yaml

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "qemu"))
from checks import check, finish  # noqa: E402  (the QEMU checkers' shared helpers)

log_path, records_path = sys.argv[1], sys.argv[2]


entries = []
for line in open(log_path, errors="replace"):
    line = line.strip()
    if line.startswith("- "):
        line = line[2:]
    if line.startswith('{"dt": '):
        entries.append(yaml.safe_load(line))
results = [e["msg"] for e in entries if e.get("lvl") == "results" and isinstance(e["msg"], dict)]
by_case = {(r.get("definition"), r.get("case")): r for r in results}
job = by_case.get(("lava", "job"))
check(job is not None and job["result"] == "pass", f"the job passed: {job}")
monitor = by_case.get(("lava", "lava-test-monitor"))
check(monitor is not None and monitor["result"] == "pass"
      and (monitor.get("extra") or {}).get("status") == "passed",
      f"the monitors action saw its start and end markers: {monitor}")
ours = [r for r in results if r.get("definition") == "hiddencost"]

records = []
for n, line in enumerate(open(records_path), 1):
    try:
        records.append(json.loads(line))
    except ValueError as e:
        check(False, f"records line {n} is not JSON: {e}")
kinds = [r.get("type") for r in records]
check(kinds[:1] == ["header"], "the header first")
check(kinds[-1:] == ["end"], "the end record last")
models = [r for r in records if r.get("type") == "model"]
check(len(models) >= 1, "at least one model record")
if kinds[-1:] == ["end"]:
    end = records[-1]
    check(end["models_ok"] == len(models) and end["models_failed"] == 0,
          f"the end record counts the models: {end}")
check(len(ours) == len(models), f"one LAVA test result per model: {len(ours)} for {len(models)}")
for r, m in zip(ours, models):
    want = f"{m['latency_ns']['median'] / 1e6:.3f}"
    check(r["result"] == "pass" and r.get("measurement") == want and r.get("units") == "ms",
          f"{m['model']}: result {r} against the record's median {want} ms")

summary = (f"{log_path}: {len(entries)} LAVA entries, {len(ours)} hiddencost test results "
           f"({', '.join(r['case'] + ' ' + r['result'] + ' ' + str(r.get('measurement')) for r in ours)}), "
           f"{len(records)} records")
finish(summary)
