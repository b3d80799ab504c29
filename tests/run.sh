#!/usr/bin/env bash
# Every test of hiddencost, from a fresh Debian 12 machine: installs what the tests need, then
# runs the Rust suite and the checks that need Python tools. Run from anywhere:
#     bash tests/run.sh
set -eu
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python tools (fixtures, schema validation, the zoo's outside-world check)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    onnx==1.23.2 numpy==2.4.6 jsonschema==4.25.1 onnxruntime==1.31.1

step "cargo test"
cargo test --locked

step "committed ONNX fixtures are what models/make_fixtures.py makes"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 models/make_fixtures.py "$tmp" >/dev/null
for f in models/*.onnx; do
    cmp "$f" "$tmp/$(basename "$f")"
done
echo "fixtures reproduce byte for byte"

step "a real bench log validates against docs/record.schema.json"
bin=target/debug/hiddencost
"$bin" -q bench models/tiny_cnn.onnx models/shuffle.onnx --runs 2 --out "$tmp/real.jsonl" >/dev/null
# garbage.onnx fails on purpose (an error record, exit status 1); anything else is a failure.
status=0
"$bin" -q bench models/tiny_cnn.onnx models/garbage.onnx --runs 2 --fake-counters --optimize none \
    --out "$tmp/fake.jsonl" >/dev/null 2>"$tmp/fake.err" || status=$?
[ "$status" = 1 ] || { echo "expected exit status 1, got $status"; cat "$tmp/fake.err"; exit 1; }
"$bin" cost models/tiny_cnn.onnx --json > "$tmp/cost.jsonl"
python3 tests/validate_log.py docs/record.schema.json "$tmp/real.jsonl" "$tmp/fake.jsonl" "$tmp/cost.jsonl" \
    tests/golden/*.jsonl

step "exported zoo models pass onnx's checker and run in onnxruntime"
"$bin" zoo export "$tmp/zoo" >/dev/null
python3 tests/zoo_check.py "$tmp/zoo"

step "the static aarch64 binary under QEMU (user mode, then a full-system boot as PID 1)"
bash tests/qemu/run.sh
