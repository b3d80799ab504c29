#!/usr/bin/env python3
"""Checks what came out of a QEMU run: JSON record lines, mixed with console lines.

    python3 tests/qemu/check_serial.py LOG MODE [ARG]

MODE `user`: qemu-user, where perf_event_open gives ENOSYS: every counter is reported unavailable
with that reason and is null in every op record, and the run still measures the model.
MODE `virt`: a boot on -M virt without a card: `cycles` counted per op by the guest's emulated
PMU, the end record and the end marker, and the missing card reported as a run note.
MODE `sweep` (ARG: the sweep's budget in seconds): a boot with hiddencost.sweep=merge,batchnorm
and no card: both families' variants measured, each baseline among them, every variant at the
same runs, the end record's elapsed time within the budget (10% over at most), as for `virt`
the missing card as a run note.
MODE `card` (ARG: the results file copied off the card): a boot with the card image attached,
`tiny_cnn.onnx` in its models/ and `runs = 3` in its hiddencost.conf, and no other setting than
the models, runs and probe budget: the card's default run is the study, so design probes come
first (some measured within the default sweep budget), then the models with the card's model
after the command line's, then their rewrites (each model's as-is run first), then the same
models eager (`optimize` none) in the same order; its
setting applied; the results file on the card holds exactly the records of the serial line.
MODE `icount` (ARG: the log of a second, identical boot): -icount runs: `instructions` counted
per op, read from user space (`counter_access`: the hardware pass `user`, the software events in
a pass of their own), and every op's value equal in both boots.
MODE `icount-syscall` (ARG: the log of an `icount` boot): the same boot with
hiddencost.counter_reads=syscall: every pass `syscall` with the setting as the reason, the same
ops, each op's instruction count within a few instructions of the user-read boot's (each way
counts its own read's user-side instructions); prints both boots' counter-read costs.
MODE `raspi4b`: a boot on -M raspi4b with hiddencost.threads=4: the context names the Raspberry
Pi 4 board and its Cortex-A72, cpufreq is set to `performance`, four threads with the counters
following the pool's threads, `cycles` counted per op, the end marker, and the probe's matmul
figure on the four threads too.
In every mode but `user`, the console has PID 1's lines for LAVA: the start marker before the
first record and one result line per model (pass with the model's median, or fail).
In every mode the header carries the machine probe, measured in the guest: a matmul figure,
bandwidth levels ending in DRAM, a dispatch floor; the summary line prints its figures.
Prints a summary line and exits non-zero on any failed check.
"""
import sys

from checks import check, finish, records_in, records_of

path, mode = sys.argv[1], sys.argv[2]
arg = sys.argv[3] if len(sys.argv) > 3 else None


text = open(path, errors="replace").read()
records = records_of(text)
kinds = [r["type"] for r in records]
header = next((r for r in records if r["type"] == "header"), None)
check(header is not None, "a header record")
check(kinds and kinds[0] == "header", "the header first")
models = [r for r in records if r["type"] == "model"]
ops = [r for r in records if r["type"] == "op"]
notes = [r["message"] for r in records if r["type"] == "error" and r["model"] == "run"]
check(len(models) >= 1, "at least one model record")
check(kinds and kinds[-1] == "end", "the end record last")
check(all(m["latency_ns"]["median"] > 0 for m in models), "positive latencies")
check(all(m["output_shapes"] for m in models), "output shapes")


def counted(event):
    values = [op["counters"].get(event) for op in ops]
    check(all(v is not None and v["median"] > 0 for v in values), f"{event} counted per op")
    check(all(v["running_ratio"] == 1.0 for v in values if v), f"{event}: no multiplexing")


def lava_lines(text):
    """PID 1's lines for a LAVA `monitors` action (lava/): the start marker before the first
    record, then one result line per model in order: `pass` with the model record's median in
    ms (three decimals), or `fail` for a model that became an error record."""
    lines = text.splitlines()
    start = next((i for i, l in enumerate(lines) if l.endswith("HIDDENCOST-START")), None)
    first = next((i for i, l in enumerate(lines) if l.startswith('{"type":')), None)
    check(start is not None and first is not None and start < first,
          "the start marker before the first record")
    results = [l.split()[1:] for l in lines if l.startswith("hiddencost-result: ")]
    outcomes = [r for r in records if r["type"] == "model" or
                (r["type"] == "error" and r["model"] != "run")]
    check(len(results) == len(outcomes), f"one result line per model: {results}")
    for words, r in zip(results, outcomes):
        if r["type"] == "model":
            want = ["pass", f"{r['latency_ns']['median'] / 1e6:.3f}", "ms"]
        else:
            want = ["fail"]
        check(words[1:] == want, f"result line {words} for {r['model']}: want {want}")


if header:
    context = header["context"]
    check(context["arch"] == "aarch64", "arch aarch64 in the context")
    events = {e["name"]: e for e in header["events"]}
    if mode == "user":
        for name, e in events.items():
            check(not e["available"] and "ENOSYS" in (e["reason"] or ""), f"{name}: ENOSYS reason")
        check(all(v is None for op in ops for v in op["counters"].values()), "null counters")
    else:
        check("HIDDENCOST-END" in text, "the end marker on the console")
        lava_lines(text)
        check(events["cycles"]["available"], "cycles available through the emulated PMU")
        counted("cycles")
    if mode in ("virt", "sweep"):
        check(any("no boot partition found" in n for n in notes), "the missing card as a run note")
    if mode == "sweep":
        budget_s = float(arg)
        families = {m["metadata"].get("sweep.family") for m in models}
        check(families == {"merge", "batchnorm"}, f"the two families asked for: {families}")
        baselines = sorted(m["metadata"]["sweep.family"] for m in models
                           if m["metadata"].get("sweep.baseline") is True)
        check(baselines == ["batchnorm", "merge"], f"each family's baseline measured: {baselines}")
        runs = {m["runs"] for m in models}
        check(len(runs) == 1, f"every variant at the same runs: {runs}")
        end = records[-1] if records else {}
        elapsed_s = end.get("elapsed_ns", 0) / 1e9
        print(f"  sweep: {len(models)} variants at {runs} runs in {elapsed_s:.1f} s of a "
              f"{budget_s:.0f} s budget")
        # The planner starts a variant only when its estimate still fits: the sweep may end a
        # little past the budget by an estimate's error, never by a variant more.
        check(0 < elapsed_s <= budget_s * 1.1, f"the sweep within its budget: {elapsed_s:.1f} s")
    if mode == "card":
        check(not any("boot partition" in n for n in notes), f"the card found: {notes}")
        meta = lambda m: m.get("metadata", {})
        probes = [m for m in models if meta(m).get("sweep.kind")]
        rewrites = [m for m in models if meta(m).get("rewrite")]
        networks = [m for m in models if m not in probes and m not in rewrites]
        check(len(probes) >= 1, "design probes measured within the default sweep budget")
        optimized = [m for m in networks if m["optimize"] != "none"]
        eager = [m for m in networks if m["optimize"] == "none"]
        check(models == probes + optimized + rewrites + eager,
              "the design probes, the models, their rewrites, then the models eager")
        sources = [m["source"] for m in optimized]
        check(sources[-1:] == ["/boot/models/tiny_cnn.onnx"], f"the card's model last: {sources}")
        check([m["source"] for m in eager] == sources, f"each model again eager: {eager}")
        # Every model has a place to change: its as-is run opens its rewrites, in model order.
        as_is = [meta(m)["rewrite.of"] for m in rewrites if meta(m)["rewrite"] == "as-is"]
        check(as_is == [m["model"] for m in optimized], f"each model's rewrites: {as_is}")
        end = records[-1] if records else {}
        print(f"  card's study: {len(probes)} design probes, {len(optimized)} models, "
              f"{len(rewrites)} rewrite runs, {len(eager)} eager, in "
              f"{end.get('elapsed_ns', 0) / 1e9:.1f} s")
        check(header["options"]["runs"] == 3, "hiddencost.conf on the card wins over cmdline.txt")
        on_card = records_in(arg)
        check(on_card == records, f"the card's log equals the serial log "
              f"({len(on_card)} vs {len(records)} records)")
    if mode == "icount":
        check(events["instructions"]["available"], "instructions available under -icount")
        counted("instructions")
        other = [r for r in records_in(arg) if r["type"] == "op"]
        check(len(other) == len(ops), "the same ops in both boots")
        differ = [(a["node"], a["counters"]["instructions"], b["counters"]["instructions"])
                  for a, b in zip(ops, other)
                  if a["counters"]["instructions"] != b["counters"]["instructions"]]
        check(not differ, f"{len(differ)} ops whose instruction counts differ, e.g. {differ[:2]}")
        access = header.get("counter_access") or {}
        hw_pass = events["instructions"].get("pass")
        methods = access.get("passes") or []
        check(hw_pass is not None and hw_pass < len(methods) and methods[hw_pass] == "user",
              f"instructions read from user space: {access}")
        soft = {events[n].get("pass") for n in ("task-clock", "page-faults", "context-switches")}
        check(soft == {len(methods) - 1} and hw_pass != len(methods) - 1,
              f"the software events in their own pass: {soft}, {access}")
        check(access.get("syscall_reason") is None, f"no reason to read(2): {access}")
    if mode == "icount-syscall":
        access = header.get("counter_access") or {}
        check(access.get("passes") == ["syscall"] and
              "syscall" in (access.get("syscall_reason") or ""),
              f"hiddencost.counter_reads=syscall applied: {access}")
        counted("instructions")
        user_recs = records_in(arg)
        other = [r for r in user_recs if r["type"] == "op"]
        check([o["node"] for o in other] == [o["node"] for o in ops], "the same ops in both boots")
        diffs = sorted(abs(a["counters"]["instructions"]["median"] - b["counters"]["instructions"]["median"])
                       for a, b in zip(ops, other))
        if diffs:
            # The two ways count different user-side instructions around the op: a handful
            # (the mmap-page read and mrs against the read(2) stub), never a share of the op.
            worst = diffs[-1]
            print(f"  per-op instructions, user reads vs read(2): median |diff| "
                  f"{diffs[len(diffs) // 2]:.0f}, max {worst:.0f}, over {len(diffs)} ops")
            check(worst <= 400, f"per-op instruction counts differ by up to {worst:.0f}")
        reads = lambda recs: [(c["pass"], c.get("method"), c["read_ns"]["median"])
                              for c in ((next(r for r in recs if r["type"] == "header").get("machine") or {})
                                        .get("counter_reads") or [])]
        print(f"  counter reads (pass, method, median ns): user boot {reads(user_recs)}, "
              f"syscall boot {reads(records)}")
    if mode == "raspi4b":
        check(context.get("device_model", "").startswith("Raspberry Pi 4"), "the board's model")
        check(context.get("cpu_part") == "0xd08", "Cortex-A72 (part 0xd08)")
        governors = {c["governor"] for c in context.get("cpufreq") or []}
        check(governors == {"performance"}, f"governor set to performance: {governors}")
        check(header["options"].get("threads") == 4, "hiddencost.threads=4 applied")
        check("pool" in (header.get("counted_threads") or ""), "counters follow the pool's threads")


def probed(machine):
    """The probe's figures in one line, or None; checks what must be there."""
    check(machine is not None, "the machine probe in the header")
    if not machine:
        return None
    mm, bw, floor = machine.get("matmul"), machine.get("bandwidth") or [], machine.get("dispatch_floor_ns")
    check(mm is not None and mm["macs_per_s"]["median"] > 0, "a matmul figure")
    check(len(bw) >= 2 and bw[-1]["level"] == "DRAM", f"bandwidth levels ending in DRAM: {[b['level'] for b in bw]}")
    check(floor is not None and floor["median"] > 0, "a dispatch floor")
    if mode == "raspi4b":
        threads = (machine.get("matmul_threads") or {}).get("threads")
        check(threads == 4, f"the matmul figure on the pool's 4 threads: {threads}")
    g = lambda x: f"{x / 1e9:.2f}"
    parts = [f"probe {machine['elapsed_ns'] / 1e9:.2f} s of {machine['budget_ns'] / 1e9:.0f} s"]
    for m in [mm, machine.get("matmul_threads")]:
        if m:
            parts.append(f"{m['kernel']} {m['m']}^3 x{m['threads']} {g(m['macs_per_s']['median'])} GMAC/s")
    for b in bw:
        parts.append(f"{b['level']} r/w/c {g(b['read_bytes_per_s']['median'])}/"
                     f"{g(b['write_bytes_per_s']['median'])}/{g(b['copy_bytes_per_s']['median'])} GB/s")
    if floor:
        parts.append(f"floor {floor['median']:.0f} ns")
    for c in machine.get("counter_reads") or []:
        parts.append(f"read pass {c['pass']} {c['read_ns']['median']:.0f} ns")
    parts.append(f"{len(machine.get('warnings') or [])} probe warnings")
    return ", ".join(parts)


figures = probed(header.get("machine")) if header else None
summary = f"{path}: {mode}: {len(records)} records ({len(ops)} ops, {len(models)} models)"
if figures:
    summary += f"\n  machine: {figures}"
finish(summary)
