#!/usr/bin/env python3
"""hiddencost's measurement quality, side by side with its peers, on the same ONNX files.

For each model (the ten zoo networks exported by `hiddencost zoo export`, plus a small CNN
defined and exported by PyTorch when torch is installed):

1. clean end-to-end latency: hiddencost's clean pass, the tract CLI's `bench` (same tract
   version, same file, same input shape) and onnxruntime on one thread;
2. profiling overhead: per-op pass / clean pass for hiddencost, and the same ratio for
   onnxruntime's profiler (every model) and torch.profiler (the PyTorch model);
3. attribution: sum of per-op medians vs the per-op pass's end-to-end, and the unattributed
   time and counter-read time per run;
4. noise: coefficient of variation of the clean pass, and the warnings hiddencost logged;
5. threads: hiddencost's clean latency with --threads 1 and 2 (and the tract CLI's, when given).

Usage (see BENCHMARKS.md for the prerequisites and the exact commands used there):
    python3 benches/peers.py --hiddencost target/release/hiddencost --tract /path/to/tract \
        --runs 20 --warmup 5 --out peers.json
The tract CLI is optional (also taken from $TRACT_CLI); without it its columns are empty.
Prints Markdown tables on stdout and writes every raw number to --out (JSON).
"""

import argparse
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

INPUT_SHAPE = (1, 3, 32, 32)
ZOO = ["vgg16", "inceptionv3", "inceptionv4", "resnet50", "seresnet50", "xception",
       "mobilenet", "mobilenetv2", "shufflenet", "shufflenetv2"]


def median(xs):
    return statistics.median(xs) if xs else None


def machine():
    """What the numbers were measured on: CPU, cores, kernel, load, date."""
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    field = lambda k: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines()
                            if l.startswith(k + ":")), None)
    return {
        "cpu_model": field("Model name"),
        "cpus": field("CPU(s)"),
        "threads_per_core": field("Thread(s) per core"),
        "hypervisor": field("Hypervisor vendor"),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "loadavg_start": os.getloadavg(),
    }


# ---------------------------------------------------------------- the PyTorch model

def torch_model():
    """A small MobileNet-like CNN for 32x32 inputs, seeded, in eval mode."""
    import torch
    import torch.nn as nn

    def block(cin, cout, stride):
        return nn.Sequential(
            nn.Conv2d(cin, cin, 3, stride, 1, groups=cin, bias=False), nn.BatchNorm2d(cin),
            nn.ReLU(inplace=True),
            nn.Conv2d(cin, cout, 1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True))

    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 32, 3, 1, 1, bias=False), nn.BatchNorm2d(32), nn.ReLU(inplace=True),
        block(32, 64, 1), block(64, 128, 2), block(128, 128, 1), block(128, 256, 2),
        block(256, 256, 1), block(256, 512, 2), block(512, 512, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 100))
    return net.eval()


def export_torch(path):
    import torch
    net = torch_model()
    x = torch.randn(*INPUT_SHAPE)
    # The TorchScript exporter (dynamo=False) needs no onnxscript; it folds BatchNorm.
    torch.onnx.export(net, (x,), str(path), dynamo=False, opset_version=17,
                      input_names=["input"], output_names=["logits"])
    return net


def time_torch(net, runs, warmup):
    """Clean median and torch.profiler median, one thread, inference mode (ms)."""
    import torch
    from torch.profiler import ProfilerActivity, profile
    torch.set_num_threads(1)
    x = torch.randn(*INPUT_SHAPE)

    def loop(n):
        out = []
        for _ in range(n):
            t = time.perf_counter_ns()
            net(x)
            out.append((time.perf_counter_ns() - t) / 1e6)
        return out

    with torch.inference_mode():
        loop(warmup)
        clean = loop(runs)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            loop(warmup)
            profiled = loop(runs)
    events = prof.key_averages()
    return {"clean_ms": clean, "profiled_ms": profiled, "profiled_ops": len(events)}


# ---------------------------------------------------------------- onnxruntime

def time_ort(path, runs, warmup, profiling, threads=1):
    import numpy as np
    import onnxruntime as ort
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    tmp = None
    if profiling:
        tmp = tempfile.mkdtemp(prefix="ortprof")
        so.enable_profiling = True
        so.profile_file_prefix = os.path.join(tmp, "ort")
    sess = ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])
    name = sess.get_inputs()[0].name
    x = np.random.default_rng(0).standard_normal(INPUT_SHAPE).astype(np.float32)
    for _ in range(warmup):
        sess.run(None, {name: x})
    out = []
    for _ in range(runs):
        t = time.perf_counter_ns()
        sess.run(None, {name: x})
        out.append((time.perf_counter_ns() - t) / 1e6)
    if profiling:
        prof = sess.end_profiling()
        os.remove(prof)
        os.rmdir(tmp)
    return out


# ---------------------------------------------------------------- hiddencost and tract

def hiddencost_bench(binary, path, runs, warmup, threads, workdir):
    log = Path(workdir) / f"{Path(path).stem}-t{threads}.jsonl"
    if log.exists():
        log.unlink()
    cmd = [binary, "-q", "bench", str(path), "--runs", str(runs), "--warmup", str(warmup),
           "--threads", str(threads), "--out", str(log)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    recs = [json.loads(l) for l in log.read_text().splitlines()]
    header = recs[0]
    model = next(r for r in recs if r["type"] == "model")
    lat = model["latency_ns"]
    return {
        "clean_median_ms": lat["median"] / 1e6,
        "clean_mean_ms": lat["mean"] / 1e6,
        "cv": lat["stddev"] / lat["mean"] if lat["mean"] else 0.0,
        "profiled_median_ms": model["profiled_latency_median_ns"] / 1e6,
        "sum_op_ms": model["sum_op_wall_median_ns"] / 1e6,
        "unattributed_ms": (model.get("unattributed_median_ns") or 0) / 1e6,
        "counter_read_ms": (model.get("counter_read_median_ns") or 0) / 1e6,
        "executed_nodes": model["executed_nodes"],
        "passes": header["passes"],
        "events_counted": [e["name"] for e in header["events"] if e["available"]],
        "warnings": model.get("warnings", []),
        "counted_threads": header.get("counted_threads"),
    }


def hiddencost_repeated(binary, path, runs, warmup, threads, workdir, repeat):
    """`repeat` runs of hiddencost_bench: each number is the median over the repeats; the
    per-repeat profiled/clean ratios are kept to show their spread."""
    reps = [hiddencost_bench(binary, path, runs, warmup, threads, workdir)
            for _ in range(repeat)]
    out = dict(reps[len(reps) // 2])
    for key, value in reps[0].items():
        if isinstance(value, float):
            out[key] = median([r[key] for r in reps])
    out["overhead_ratios"] = [r["profiled_median_ms"] / r["clean_median_ms"] for r in reps]
    out["ops_shares"] = [1 - (r["unattributed_ms"] + r["counter_read_ms"]) / r["profiled_median_ms"]
                         for r in reps]
    out["warnings"] = sorted({w["kind"] for r in reps for w in r["warnings"]})
    out["repeats"] = repeat
    return out


def tract_bench(binary, path, runs, warmup, threads=None):
    """The tract CLI's own bench: mean ms per inference over `runs` loops. `threads` None is
    tract's serial executor (its `--threads 1` would be a one-thread pool)."""
    shape = ",".join(str(d) for d in INPUT_SHAPE) + ",f32"
    # -O: optimized, tract's "default" runtime, as hiddencost's --optimize full.
    cmd = [binary, str(path), "-O", "--machine-friendly", "-i", shape]
    if threads:
        cmd += ["--threads", str(threads)]
    cmd += ["bench", "--allow-random-input", "--warmup-loops", str(warmup),
            "--max-loops", str(runs),
            "--max-time", "600000"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True)
    # --machine-friendly: "real: SECONDS" (total bench time / loops, i.e. the mean).
    m = re.search(r"^real: ([0-9.eE+-]+)$", out.stdout, re.MULTILINE)
    if not m:
        raise RuntimeError(f"unexpected tract bench output: {out.stdout[-500:]}")
    return {"mean_ms": float(m.group(1)) * 1e3, "command": " ".join(cmd[1:])}


# ---------------------------------------------------------------- report

def fmt(x, digits=3):
    return "" if x is None else f"{x:.{digits}f}"


def tables(res):
    rows = res["models"]
    out = []
    out.append("### 1. Clean end-to-end latency (ms; hiddencost and tract: mean, ORT: median)\n")
    out.append("| model | hiddencost median | hiddencost mean | tract CLI bench mean | "
               "hiddencost / tract | onnxruntime 1 thread median | hiddencost / ORT |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        hc, tr, ort_ = r["hiddencost"], r.get("tract"), r.get("ort_clean_median_ms")
        ratio_t = hc["clean_mean_ms"] / tr["mean_ms"] if tr else None
        ratio_o = hc["clean_median_ms"] / ort_ if ort_ else None
        out.append(f"| {r['model']} | {fmt(hc['clean_median_ms'])} | {fmt(hc['clean_mean_ms'])} "
                   f"| {fmt(tr['mean_ms']) if tr else 'n/a'} | {fmt(ratio_t, 2)} "
                   f"| {fmt(ort_)} | {fmt(ratio_o, 2)} |")
    out.append("\n### 2. Profiling overhead (profiled / clean, medians; hiddencost: median "
               "of the repeats [min-max])\n")
    out.append("| model | executed ops | hiddencost | onnxruntime profiler | torch.profiler |")
    out.append("| --- | ---: | ---: | ---: | ---: |")
    for r in rows:
        hc = r["hiddencost"]
        ort_ratio = (r["ort_profiled_median_ms"] / r["ort_clean_median_ms"]
                     if r.get("ort_profiled_median_ms") else None)
        t = r.get("torch")
        torch_ratio = (median(t["profiled_ms"]) / median(t["clean_ms"])) if t else None
        ratios = hc["overhead_ratios"]
        out.append(f"| {r['model']} | {hc['executed_nodes']} "
                   f"| {fmt(median(ratios), 3)} [{fmt(min(ratios), 3)}-{fmt(max(ratios), 3)}] "
                   f"| {fmt(ort_ratio, 3)} | {fmt(torch_ratio, 3) if t else 'n/a'} |")
    out.append("\n### 3. Attribution in hiddencost's per-op pass (ms, medians)\n")
    out.append("Per run, end-to-end = the ops' wall times + counter reads + unattributed "
               "(dispatch, allocation), exactly; shares are of the per-op run's end-to-end.\n")
    out.append("| model | per-op run e2e | unattributed | % | counter reads | % "
               "| ops share | sum of op medians / e2e |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        hc = r["hiddencost"]
        e2e, u, rd = hc["profiled_median_ms"], hc["unattributed_ms"], hc["counter_read_ms"]
        out.append(f"| {r['model']} | {fmt(e2e)} | {fmt(u)} | {fmt(100 * u / e2e, 2)} "
                   f"| {fmt(rd)} | {fmt(100 * rd / e2e, 2)} | {fmt(median(hc['ops_shares']), 3)} "
                   f"| {fmt(hc['sum_op_ms'] / e2e, 3)} |")
    out.append("\n### 4. Noise (hiddencost clean pass)\n")
    out.append("| model | CV % (median of repeats) | warnings (any repeat) |")
    out.append("| --- | ---: | --- |")
    for r in rows:
        hc = r["hiddencost"]
        warn = ", ".join(hc["warnings"]) or "none"
        out.append(f"| {r['model']} | {fmt(100 * hc['cv'], 2)} | {warn} |")
    if res.get("threads"):
        out.append("\n### 5. Threads (clean median ms)\n")
        out.append("| model | hiddencost 1 | hiddencost 2 | speed-up | tract CLI 1 (mean) "
                   "| tract CLI 2 (mean) | speed-up |")
        out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
        for t in res["threads"]:
            h1, h2 = t["hiddencost_1"], t["hiddencost_2"]
            t1, t2 = t.get("tract_1"), t.get("tract_2")
            out.append(f"| {t['model']} | {fmt(h1)} | {fmt(h2)} | {fmt(h1 / h2, 2)} "
                       f"| {fmt(t1)} | {fmt(t2)} | {fmt(t1 / t2, 2) if t1 and t2 else ''} |")
    return "\n".join(out)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hiddencost", default="target/release/hiddencost")
    ap.add_argument("--tract", default=os.environ.get("TRACT_CLI"),
                    help="tract CLI binary (default: $TRACT_CLI; none: skip its columns)")
    ap.add_argument("--runs", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=3,
                    help="hiddencost runs per model; its numbers are medians over them")
    ap.add_argument("--models", nargs="*", default=ZOO, help="zoo names (default: all ten)")
    ap.add_argument("--no-torch", action="store_true", help="skip the PyTorch model")
    ap.add_argument("--threads-models", default="resnet50,vgg16,mobilenetv2",
                    help="models for the 1- vs 2-thread comparison ('' to skip)")
    ap.add_argument("--out", default="peers.json", help="raw results (JSON)")
    ap.add_argument("--workdir", help="where the .onnx files and logs go (default: a temp dir)")
    args = ap.parse_args()
    for tool in [args.hiddencost] + ([args.tract] if args.tract else []):
        if not os.access(tool, os.X_OK):
            sys.exit(f"error: {tool} is not an executable (build it first, see BENCHMARKS.md)")

    work = Path(args.workdir or tempfile.mkdtemp(prefix="hiddencost-peers"))
    work.mkdir(parents=True, exist_ok=True)
    subprocess.run([args.hiddencost, "zoo", "export", str(work)] + args.models, check=True,
                   stdout=subprocess.DEVNULL)
    files = [(name, work / f"{name}.onnx") for name in args.models]
    net = None
    if not args.no_torch:
        try:
            net = export_torch(work / "torch_mobilenetish.onnx")
            files.append(("torch_mobilenetish", work / "torch_mobilenetish.onnx"))
        except ImportError:
            print("torch not installed: no PyTorch model", file=sys.stderr)

    res = {"machine": machine(), "runs": args.runs, "warmup": args.warmup,
           "input_shape": INPUT_SHAPE, "models": [], "threads": []}
    for name, path in files:
        print(f"{name} ...", file=sys.stderr)
        row = {"model": name, "file": path.name}
        row["hiddencost"] = hiddencost_repeated(args.hiddencost, path, args.runs, args.warmup,
                                                1, work, args.repeat)
        if args.tract:
            row["tract"] = tract_bench(args.tract, path, args.runs, args.warmup)
        row["ort_clean_median_ms"] = median(time_ort(path, args.runs, args.warmup, False))
        row["ort_profiled_median_ms"] = median(time_ort(path, args.runs, args.warmup, True))
        if name.startswith("torch_") and net is not None:
            row["torch"] = time_torch(net, args.runs, args.warmup)
        res["models"].append(row)
    for name in filter(None, args.threads_models.split(",")):
        path = work / f"{name}.onnx"
        if not path.exists():
            continue
        print(f"{name} threads ...", file=sys.stderr)
        t = {"model": name}
        for n in (1, 2):
            hc = hiddencost_bench(args.hiddencost, path, args.runs, args.warmup, n, work)
            t[f"hiddencost_{n}"] = hc["clean_median_ms"]
            if n == 2:
                t["counted_threads"] = hc["counted_threads"]
            if args.tract:
                t[f"tract_{n}"] = tract_bench(args.tract, path, args.runs, args.warmup,
                                              n if n > 1 else None)["mean_ms"]
        res["threads"].append(t)
    res["machine"]["loadavg_end"] = os.getloadavg()
    Path(args.out).write_text(json.dumps(res, indent=1))
    m = res["machine"]
    print(f"Machine: {m['cpu_model']}, {m['cpus']} CPUs ({m['hypervisor'] or 'bare metal'}), "
          f"kernel {m['kernel']}, {m['date_utc']}, load average at start "
          f"{m['loadavg_start'][0]:.2f}, at end {m['loadavg_end'][0]:.2f}; "
          f"{args.runs} runs after {args.warmup} warm-up runs; hiddencost {args.repeat} times "
          f"per model.\n")
    print(tables(res))


if __name__ == "__main__":
    main()
