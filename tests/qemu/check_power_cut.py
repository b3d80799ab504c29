#!/usr/bin/env python3
"""Checks a card after a power cut (QEMU killed with SIGKILL in the middle of a multi-model run).

    python3 tests/qemu/check_power_cut.py SERIAL_LOG CARD_LOG FSCK_STATUS FSCK_OUTPUT REPORT_MD

- the cut came in the middle: the serial line has model records and no end record;
- the card's file system is consistent: `fsck.vfat -n` found nothing but what an unclean
  unmount leaves (the dirty bit, a stale free-cluster count);
- every complete line of the card's results file is a JSON record; only its last line may be
  cut short (or padded with zero bytes, the rest of a block the power cut left unwritten);
- the card holds the models of the serial line in order, every one but at most the last (the
  one whose record reached the serial line and not yet the card: it was in flight);
- `hiddencost analyze` read the card's log and its report notes the missing end record.
Prints a summary line and exits non-zero on any failed check.
"""
import json
import sys

from checks import check, finish, records_in

serial_path, card_path, fsck_status, fsck_path, report_path = sys.argv[1:6]


serial = records_in(serial_path)
serial_models = [r["model"] for r in serial if r["type"] == "model"]
check(len(serial_models) >= 2, f"two models on the serial line before the cut: {serial_models}")
check(not any(r["type"] == "end" for r in serial), "the cut came before the end record")

fsck = open(fsck_path, errors="replace").read()
# What an unclean unmount leaves, and nothing else: the dirty bit Linux sets while the FAT is
# mounted (byte 65 of the boot sector, which therefore differs from its backup) and a stale
# free-cluster count (FSInfo's hint, which Linux writes at unmount). A lost cluster, a bad
# chain, a wrong file size or a damaged directory prints other lines.
BENIGN = (
    "fsck.fat ",
    "There are differences between boot sector and its backup.",
    "This is mostly harmless. Differences: (offset:original/backup)",
    "  65:01/00",
    "  Not automatically fixing this.",
    "Dirty bit is set. Fs was not properly unmounted and some data may be corrupt.",
    " Automatically removing dirty bit.",
    "Free cluster summary wrong",
    "  Auto-correcting.",
    "Leaving filesystem unchanged.",
)
problems = [l for l in fsck.splitlines()
            if l.strip() and not l.startswith(BENIGN) and not l.endswith(" clusters")]
check(fsck_status in ("0", "1") and not problems,
      f"fsck.vfat -n: status {fsck_status}, problems: {problems}")
unclean = "dirty bit" if "Dirty bit is set" in fsck else "clean"

raw = open(card_path, "rb").read()
text = raw.rstrip(b"\0").decode("utf-8", errors="replace")
lines = text.split("\n")
complete, last = lines[:-1], lines[-1]
bad = []
card = []
for i, line in enumerate(complete):
    try:
        card.append(json.loads(line))
    except ValueError as e:
        bad.append(f"line {i + 1}: {e}")
check(not bad, f"every complete line is JSON: {bad[:3]}")
cut_short = ""
if last:
    try:
        card.append(json.loads(last))
    except ValueError:
        cut_short = f", last line cut short ({len(last)} bytes)"
card_models = [r["model"] for r in card if r.get("type") == "model"]
check(card and card[0].get("type") == "header", "the card's log starts with its header")
check(card_models == serial_models[:len(card_models)],
      f"the card's models are the serial line's, in order: {card_models} vs {serial_models}")
check(len(card_models) >= len(serial_models) - 1,
      f"at most the model in flight lost: {len(card_models)} of {len(serial_models)} on the card")

report = open(report_path, errors="replace").read()
check("no end record" in report, "the report notes the missing end record")

summary = (f"{card_path}: power cut after {len(serial_models)} models on the serial line: "
           f"{len(card_models)} on the card, {len(card)} records{cut_short}, "
           f"fsck.vfat -n: status {fsck_status}, {unclean}, nothing else")
finish(summary)
