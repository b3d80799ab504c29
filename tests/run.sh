#!/usr/bin/env bash
# Every test of hiddencost, from a fresh Debian 12 machine: installs what the tests need, then
# runs the Rust suite and the checks that need Python tools. Run from anywhere:
#     bash tests/run.sh
set -eu
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Python tools (fixtures, schema validation, the zoo's outside-world check, Yocto layer lint and kas)"
python3 -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
    onnx==1.23.2 numpy==2.4.6 jsonschema==4.25.1 onnxruntime==1.31.1 \
    oelint-adv==9.11.2 kas==4.8.1

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

step "Yocto layer: crates include, lint, kas files, license checksum (no bitbake here)"
inc=yocto-layer/recipes-benchmark/hiddencost/hiddencost-crates.inc
python3 yocto-layer/scripts/gen-crates-inc.py Cargo.lock | cmp - "$inc" \
    || { echo "run: python3 yocto-layer/scripts/gen-crates-inc.py Cargo.lock > $inc"; exit 1; }
# Every finding fails the step but one: `SRC_URI += " \` on line 4 of the generated crates
# include, the line oe-core's cargo-update-recipe-crates writes (every *-crates.inc of oe-core
# has it); the include stays byte for byte what that class would write.
find yocto-layer \( -name '*.bb' -o -name '*.bbappend' -o -name '*.inc' \) -print | sort \
    | xargs oelint-adv --release wrynose --mode all --quiet --relpaths >"$tmp/oelint.txt" 2>&1 || true
if grep -v -E "^$inc:4:(error|info):oelint\.vars\.(inconspaces|notneededspace):" "$tmp/oelint.txt"; then
    echo "oelint-adv: findings above"
    exit 1
fi
echo "oelint-adv $(oelint-adv --version | cut -d' ' -f2): clean"
# kas's own loader: YAML, schema, header version, includes merged, no repository missing.
KAS_WORK_DIR="$tmp" python3 -c '
import argparse, sys
from kas.context import create_global_context
from kas.includehandler import IncludeHandler
create_global_context(argparse.Namespace())
for path in sys.argv[1:]:
    cfg, missing = IncludeHandler([path], use_lock=False).get_config()
    assert not missing, f"{path}: repositories missing: {missing}"
    print(path, "machine", cfg.get("machine"), "target", cfg.get("target"), "repos", sorted(cfg["repos"]))
' yocto-layer/kas/raspberrypi4-64.yml yocto-layer/kas/qemuarm64.yml
# LIC_FILES_CHKSUM covers Cargo.toml's license line (the repository has no LICENSE files yet).
python3 -c '
import hashlib, re
bb = open("yocto-layer/recipes-benchmark/hiddencost/hiddencost_0.1.0.bb").read()
m = re.search(r"file://Cargo\.toml;beginline=(\d+);endline=(\d+);md5=([0-9a-f]{32})", bb)
begin, end, md5 = int(m[1]), int(m[2]), m[3]
lines = open("Cargo.toml", "rb").readlines()[begin - 1:end]
assert lines[0].startswith(b"license = "), f"Cargo.toml line {begin}: {lines[0]!r}"
got = hashlib.md5(b"".join(lines)).hexdigest()
assert got == md5, f"LIC_FILES_CHKSUM says md5 {md5}; Cargo.toml lines {begin}-{end} give {got}"
print("LIC_FILES_CHKSUM matches Cargo.toml")
'

step "the static aarch64 binary under QEMU (user mode, then a full-system boot as PID 1)"
bash tests/qemu/run.sh
