#!/bin/sh
# Regenerates the golden logs of the analyze tests with the real `hiddencost bench`.
#   fake.jsonl: --fake-counters (every op: cycles 1000, instructions 2000, ... exactly), two runs
#               in one file, one model failing (dynamic input shape without --input-shape).
#   real.jsonl: real counters of the machine that made it (null where it has no PMU access).
# bench --out appends, so every run writes to a fresh temporary file.
# Wall times are real in both, so snapshots under tests/snapshots/ change when this is re-run:
# regenerate them with UPDATE_SNAPSHOTS=1 cargo test --test analyze_report.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
cd "$root"
cargo build --quiet
bin=${CARGO_TARGET_DIR:-$root/target}/debug/hiddencost
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for mode in fake real; do
    flag=""
    [ "$mode" = fake ] && flag="--fake-counters"
    # exits 1 because tiny_cnn_dynamic fails (wanted: an error record)
    "$bin" -q bench models/tiny_cnn.onnx models/shuffle.onnx models/tiny_cnn_dynamic.onnx \
        $flag --runs 5 --warmup 2 --out "$tmp/$mode-a.jsonl" >/dev/null 2>&1 || true
    "$bin" -q bench models/tiny_cnn_dynamic.onnx --input-shape 1,3,16,16 \
        $flag --runs 5 --warmup 2 --out "$tmp/$mode-b.jsonl" >/dev/null
    cat "$tmp/$mode-a.jsonl" "$tmp/$mode-b.jsonl" > "$here/$mode.jsonl"
done
