#!/usr/bin/python3
"""Validates the LAVA job files with LAVA's own schema (lava_common, from Debian's
lava-common package: run with the system Python), and their monitors against the lines PID 1
prints (src/init/mod.rs, `result_line`).

    /usr/bin/python3 lava/validate_jobs.py lava/*.yaml

Each job: lava_common.schemas.validate(strict=True) accepts it; it has a `monitors` test action
named hiddencost whose start and end are PID 1's markers; its pattern, as pexpect applies it
to the serial stream, turns a pass line into pass with the median as measurement in ms and a
fail line into fail, and does not match a result line that has not fully arrived yet. Every
job has the same monitor. Exits non-zero on any failure.
"""
import re
import sys

import yaml
from lava_common.schemas import validate

START, END = "HIDDENCOST-START", "HIDDENCOST-END"
failures = []
monitors = {}
for path in sys.argv[1:]:
    job = yaml.safe_load(open(path))
    try:
        validate(job, strict=True)
    except Exception as e:  # voluptuous' errors carry the path into the job
        failures.append(f"{path}: LAVA's schema: {e}")
        continue
    tests = [a["test"] for a in job["actions"] if "test" in a]
    mons = [m for t in tests for m in t.get("monitors", [])]
    if len(mons) != 1 or mons[0]["name"] != "hiddencost":
        failures.append(f"{path}: one monitors action named hiddencost expected: {mons}")
        continue
    mon = mons[0]
    monitors[path] = mon
    if (mon["start"], mon["end"]) != (START, END):
        failures.append(f"{path}: start/end {mon['start']}/{mon['end']}, PID 1 prints {START}/{END}")
    pattern = re.compile(mon["pattern"])
    cases = [
        ("hiddencost-result: zoo:mobilenet pass 12.346 ms\r\n",
         {"test_case_id": "zoo:mobilenet", "result": "pass", "measurement": "12.346", "units": "ms"}),
        ("hiddencost-result: /boot/models/my_model.onnx fail\r\n",
         {"test_case_id": "/boot/models/my_model.onnx", "result": "fail", "measurement": None,
          "units": None}),
        ("hiddencost-result: zoo:mobilenet pass", None),
        ("hiddencost-result: zoo:mobilenet pass 12.3", None),
    ]
    for line, want in cases:
        m = pattern.search(line)
        got = m.groupdict() if m else None
        if got != want:
            failures.append(f"{path}: pattern on {line!r}: {got}, want {want}")
if len({(m["start"], m["end"], m["pattern"]) for m in monitors.values()}) > 1:
    failures.append("the jobs' monitors differ")
if failures:
    print("\n".join(failures))
    sys.exit(1)
print(f"{len(sys.argv) - 1} LAVA job files valid by lava_common's schema, monitors checked")
