#!/usr/bin/env python3
"""Write a LAVA-style job log with PyYAML itself (run by tests/lava_log.rs).

usage: lava_log.py JSONL LOG EXPECTED [pure]

Each line of JSONL becomes a `target` entry, dumped as docs/analysis.md ("What LAVA writes")
says LAVA's dump() does: safe dumper (libyaml's, or PyYAML's own with `pure`), flow style,
every scalar double-quoted, width 10**5, an entry of 10**5 characters or more replaced by
`<line way too long ...>`. Kernel lines with quotes, backslashes and non-ASCII, two records
with non-ASCII model names and a record too long for LAVA are added; EXPECTED gets the records
that must come back (all but the too-long one), byte for byte.
"""
import json
import sys

import yaml

src, log_path, expected_path = sys.argv[1:4]
dumper = yaml.SafeDumper if sys.argv[4:] == ["pure"] else yaml.CSafeDumper
count = 0


def dump(lvl, msg):
    global count
    count += 1
    data = {"dt": "2026-12-02T14:00:%02d.%06d+00:00" % (count // 1000 % 60, count), "lvl": lvl, "msg": msg}
    text = yaml.dump(data, Dumper=dumper, default_flow_style=True, default_style='"', width=10**5)[:-1]
    if len(text) >= 10**5:
        data["msg"] = "<line way too long ...>" if isinstance(msg, str) else {"skip": "line way too long ..."}
        text = yaml.dump(data, Dumper=dumper, default_flow_style=True, default_style='"', width=10**6)[:-1]
    return "- " + text + "\n"


records = [line.rstrip("\n") for line in open(src, encoding="utf-8")]
extra = [
    json.dumps({"type": "note", "model": "r\u00e9seau-\u7f51\u7edc-\U0001F600", "tab": "\t\\\""}, ensure_ascii=False),
    json.dumps({"type": "note", "model": "\u00a0\u0085\u2028\u2029\ufeff\x7f"}, ensure_ascii=False),
]
too_long = json.dumps({"type": "note", "blob": "x" * 120000})
out = [dump("info", "lava-dispatcher, installed at version: 2026.01")]
back = []
for ix, rec in enumerate(records[:1] + extra + records[1:] + [too_long]):
    if ix % 50 == 0:
        out.append(dump("target", '[ %4d.%06d] usb 1-1: Product: "\u00c9cran" \\\\ \t tab' % (ix, ix)))
    out.append(dump("target", rec))
    if rec is not too_long:
        back.append(rec + "\n")
out.append(dump("results", {"case": "job", "definition": "lava", "duration": 12.5, "extra": [1, None, True], "result": "pass"}))
with open(log_path, "w", encoding="utf-8") as f:
    f.write("".join(out))
with open(expected_path, "w", encoding="utf-8") as f:
    f.write("".join(back))
