#!/usr/bin/env python3
"""Checks exported zoo models the way the outside world would read them.

Usage: python3 tests/zoo_check.py DIR

For every DIR/*.onnx: onnx.checker.check_model(full_check=True), then one onnxruntime inference
on a fixed float32 [1, 3, 32, 32] input; the output must be (1, 100) and finite. Prints one line
per model and exits non-zero if any model fails (or if DIR holds no .onnx file).
Needs: pip install onnx onnxruntime numpy
"""
import pathlib
import sys

import numpy as np
import onnx
import onnxruntime as ort


def check(path: pathlib.Path) -> str:
    model = onnx.load(str(path))
    onnx.checker.check_model(model, full_check=True)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    inputs = session.get_inputs()
    if len(inputs) != 1 or inputs[0].name != "input" or inputs[0].shape != [1, 3, 32, 32]:
        raise ValueError(f"unexpected inputs {[(i.name, i.shape) for i in inputs]}")
    x = (np.arange(3 * 32 * 32, dtype=np.float32).reshape(1, 3, 32, 32) % 17) / 8.0 - 1.0
    (y,) = session.run(["output"], {"input": x})
    if y.shape != (1, 100):
        raise ValueError(f"output shape {y.shape}, expected (1, 100)")
    if not np.isfinite(y).all():
        raise ValueError("non-finite output")
    return f"{len(model.graph.node)} nodes, max |y| = {np.abs(y).max():.4g}"


def main() -> int:
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    paths = sorted(pathlib.Path(sys.argv[1]).glob("*.onnx"))
    if not paths:
        print(f"no .onnx file in {sys.argv[1]}", file=sys.stderr)
        return 1
    failed = 0
    for path in paths:
        try:
            print(f"ok   {path.stem}: {check(path)}", flush=True)
        except Exception as e:  # report every model, then fail
            failed += 1
            print(f"FAIL {path.stem}: {type(e).__name__}: {e}", flush=True)
    print(f"{len(paths) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
