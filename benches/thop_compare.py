#!/usr/bin/env python3
"""Compare hiddencost's `thop_macs` with `thop.profile` on torchvision/timm models.

Each architecture is built with random weights (never pretrained), exported to ONNX twice with
the TorchScript exporter (opset 17): once with BatchNormalization kept (training=PRESERVE on an
eval-mode model, which skips the exporter's conv-BN fusion) and once with BN folded (the default
EVAL export). `hiddencost cost FILE --json` gives the model's thop_macs, macs and params;
thop.profile (thop 0.1.1) gives its MACs and params on the same module and input.

Prints a markdown table, then per model the thop MACs by module type (thop's own counting rules
on the leaf modules whose exact type has one, as thop.profile hooks them; the sum is printed to
check it against thop.profile) and hiddencost's thop_macs by ONNX op type, which is where each
difference comes from.

    python benches/thop_compare.py --hiddencost PATH/TO/hiddencost --out DIR [--models a,b]
"""

import argparse
import collections
import copy
import datetime
import json
import os
import platform
import subprocess
import sys
import time
import warnings

import torch

import thop
import importlib
import timm
import torchvision

# (name, builder, input side). Random init only: weights=None / pretrained=False.
MODELS = [
    ("resnet18", lambda: torchvision.models.resnet18(weights=None), 224),
    ("mobilenet_v2", lambda: torchvision.models.mobilenet_v2(weights=None), 224),
    ("mobilenet_v3_small", lambda: torchvision.models.mobilenet_v3_small(weights=None), 224),
    ("shufflenet_v2_x1_0", lambda: torchvision.models.shufflenet_v2_x1_0(weights=None), 224),
    ("squeezenet1_1", lambda: torchvision.models.squeezenet1_1(weights=None), 224),
    ("densenet121", lambda: torchvision.models.densenet121(weights=None), 224),
    ("efficientnet_b0", lambda: torchvision.models.efficientnet_b0(weights=None), 224),
    ("convnext_tiny", lambda: torchvision.models.convnext_tiny(weights=None), 224),
    ("timm/efficientnet_b0", lambda: timm.create_model("efficientnet_b0", pretrained=False), 224),
    ("timm/vit_tiny_patch16_224",
     lambda: timm.create_model("vit_tiny_patch16_224", pretrained=False), 224),
    ("timm/mobilenetv3_small_100",
     lambda: timm.create_model("mobilenetv3_small_100", pretrained=False), 224),
    ("timm/ghostnet_100", lambda: timm.create_model("ghostnet_100", pretrained=False), 224),
    ("timm/mobilevit_xxs", lambda: timm.create_model("mobilevit_xxs", pretrained=False), 256),
]


def export(model, x, path, keep_bn):
    kwargs = dict(opset_version=17, input_names=["input"], output_names=["output"])
    if keep_bn:
        # EVAL runs the exporter's eval peephole, which fuses Conv+BN; PRESERVE on an
        # eval-mode model exports the same inference graph without that fusion.
        kwargs["training"] = torch.onnx.TrainingMode.PRESERVE
    try:
        torch.onnx.export(model, (x,), path, dynamo=False, **kwargs)
    except TypeError:  # an older torch without the `dynamo` argument
        torch.onnx.export(model, (x,), path, **kwargs)


def count_bn_nodes(path):
    import onnx

    m = onnx.load(path, load_external_data=False)
    return sum(1 for n in m.graph.node if n.op_type == "BatchNormalization")


def hiddencost(binary, path):
    out = subprocess.run([binary, "cost", path, "--json", "-q"], check=True,
                         capture_output=True, text=True).stdout
    model = None
    by_op = collections.Counter()
    for line in out.splitlines():
        rec = json.loads(line)
        if rec.get("type") == "model_cost":
            model = rec
        elif rec.get("type") == "node":
            by_op[rec["op_type"]] += rec["thop_macs"]
    if model is None:
        raise RuntimeError(f"no model_cost line from {binary} cost {path}")
    return model, by_op


def thop_by_module(model, x):
    """thop 0.1.1's own rules (thop.profile.register_hooks), applied as thop.profile applies them
    (leaf modules of an exact type in the table), summed per module type."""
    rules = importlib.import_module("thop.profile").register_hooks
    totals = collections.Counter()
    handles = []
    for m in model.modules():
        if len(list(m.children())) > 0:
            continue
        fn = rules.get(type(m))
        if fn is None:
            continue

        def hook(mod, inp, out, fn=fn):
            mod.total_ops = torch.zeros(1, dtype=torch.float64)
            fn(mod, inp, out)
            totals[type(mod).__name__] += int(mod.total_ops.item())
            del mod.total_ops

        handles.append(m.register_forward_hook(hook))
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return totals


def fmt(n):
    return f"{n:,}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hiddencost", required=True, help="path to the hiddencost binary")
    ap.add_argument("--out", required=True, help="directory for the exported ONNX files")
    ap.add_argument("--models", default="", help="comma-separated subset of the names")
    args = ap.parse_args()
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")
    torch.manual_seed(0)
    wanted = set(filter(None, args.models.split(",")))

    versions = {
        "python": platform.python_version(), "torch": torch.__version__,
        "torchvision": torchvision.__version__, "timm": timm.__version__,
        "thop": getattr(thop, "__version__", "?"),
    }
    try:
        import onnx
        versions["onnx"] = onnx.__version__
    except ImportError:
        pass
    print(f"<!-- {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M UTC}; "
          + ", ".join(f"{k} {v}" for k, v in versions.items()) + " -->")
    print()

    rows, details = [], []
    for name, build, side in MODELS:
        if wanted and name not in wanted:
            continue
        t0 = time.time()
        model = build().eval()
        x = torch.randn(1, 3, side, side)
        # thop.profile, on a copy (it adds and removes buffers and hooks on the module it gets).
        with torch.no_grad():
            t_macs, t_params = thop.profile(copy.deepcopy(model), inputs=(x,), verbose=False)
        t_macs, t_params = int(t_macs), int(t_params)
        t_by_mod = thop_by_module(copy.deepcopy(model), x)
        torch_params = sum(p.numel() for p in model.parameters())
        for keep_bn in (True, False):
            path = os.path.join(args.out, f"{name.replace('/', '_')}_{'bn' if keep_bn else 'folded'}.onnx")
            export(model, x, path, keep_bn)
            n_bn = count_bn_nodes(path)
            rec, by_op = hiddencost(args.hiddencost, path)
            h = rec["thop_macs"]
            rows.append((name, side, "kept" if keep_bn else "folded", n_bn, t_macs, h, h - t_macs,
                         h / t_macs if t_macs else float("nan"), t_params, torch_params,
                         rec["params"], rec["macs"]))
            if keep_bn:
                details.append((name, t_by_mod, by_op))
        print(f"<!-- {name}: {time.time() - t0:.0f} s -->", file=sys.stderr)

    print("| model | input | BN | BN nodes | thop.profile MACs | hiddencost thop_macs | "
          "difference | ratio | thop params | torch params | hiddencost params | hiddencost macs |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for (name, side, bn, n_bn, t, h, d, r, tp, pp, hp, hm) in rows:
        print(f"| {name} | {side}x{side} | {bn} | {n_bn} | {fmt(t)} | {fmt(h)} | {d:+,} | {r:.4f} "
              f"| {fmt(tp)} | {fmt(pp)} | {fmt(hp)} | {fmt(hm)} |")
    print()
    print("Where the MACs come from (BN-kept export): thop.profile by module type, "
          "hiddencost thop_macs by ONNX op type (non-zero only).")
    print()
    for name, t_by_mod, by_op in details:
        tm = ", ".join(f"{k} {fmt(v)}" for k, v in t_by_mod.most_common() if v)
        hm = ", ".join(f"{k} {fmt(v)}" for k, v in by_op.most_common() if v)
        print(f"- **{name}**: thop ({fmt(sum(t_by_mod.values()))}): {tm}; "
              f"hiddencost ({fmt(sum(by_op.values()))}): {hm}")


if __name__ == "__main__":
    main()
