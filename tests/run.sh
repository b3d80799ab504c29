#!/usr/bin/env bash
# Every test of hiddencost, from a fresh Debian 12 machine, as root or as a normal user with
# sudo: installs what the tests need first (Debian packages up front, Python tools into a
# virtual environment of its own under target/), then runs the Rust suite and the checks that
# need Python tools, the browser and QEMU. Run from anywhere:
#     bash tests/run.sh
set -eu
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "Debian packages for every step, all before the first build"
if ! command -v cargo >/dev/null; then
    echo "no cargo on PATH: install Rust 1.91 or newer with rustup (https://rustup.rs)"; exit 1
fi
qemu_major=$(qemu-system-aarch64 --version 2>/dev/null | awk '/version/ {split($4, v, "."); print v[1]; exit}')
# -M raspi4b needs QEMU 9 or newer: bookworm's is 7.2, bookworm-backports has 10.
[ "${qemu_major:-0}" -ge 9 ] || bash tools/need-packages.sh --backports qemu-system-arm
# lava-dispatcher (below) needs qemu-system-x86, through libguestfs: it must be the same QEMU
# release as qemu-system-arm's qemu-system-common, so from backports when that one is (else
# apt finds bookworm's 7.2 and refuses: "held broken packages").
from_backports() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep -q 'ok installed .*~bpo'; }
if from_backports qemu-system-common && ! from_backports qemu-system-x86; then
    bash tools/need-packages.sh --backports --no-recommends qemu-system-x86
fi
packages=(chromium gcc-aarch64-linux-gnu file qemu-user-static cpio mtools dosfstools fdisk)
python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
bash tools/need-packages.sh "${packages[@]}"
# LAVA's dispatcher (the QEMU job of lava/ runs through lava-run), without its Recommends.
bash tools/need-packages.sh --no-recommends lava-dispatcher
echo "all there: ${packages[*]} qemu-system-arm $(qemu-system-aarch64 --version | awk '/version/ {print $4; exit}')"

step "Python tools (fixtures, schema validation, the zoo's outside-world check, Yocto layer lint and kas, the report's browser check, LAVA-style logs, DuckDB for the Parquet export), in target/test-venv"
# A virtual environment of the tests' own, made by the python3 on PATH: Debian's own Python
# refuses pip installs outside one (PEP 668, "externally-managed-environment").
venv=target/test-venv
tools="onnx==1.23.2 numpy==2.4.6 jsonschema==4.25.1 onnxruntime==1.31.1 oelint-adv==9.11.2 \
kas==4.8.1 playwright==1.65.2 pillow==12.0.0 pyyaml==6.0.3 duckdb==2.0.0"
if [ "$(cat "$venv/tools.txt" 2>/dev/null)" != "$(python3 --version) $tools" ]; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    # shellcheck disable=SC2086 # one word per requirement
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check $tools
    echo "$(python3 --version) $tools" > "$venv/tools.txt"
fi
export PATH="$PWD/$venv/bin:$PATH"
echo "$(command -v python3): $(python3 --version)"

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
# Two design families of the sweep: their records are bench's, with sweep.* metadata.
"$bin" -q sweep --families merge,batchnorm --runs 5 --budget 30 --probe-budget 0 \
    --out "$tmp/sweep.jsonl" >/dev/null
python3 tests/validate_log.py docs/record.schema.json "$tmp/real.jsonl" "$tmp/fake.jsonl" "$tmp/cost.jsonl" \
    "$tmp/sweep.jsonl" tests/golden/*.jsonl

step "report.html and every chart in a real browser (Debian's Chromium, offline)"
# The golden zoo log (another VM, no machine roofs) and this machine's bench log (with them):
# two devices in one report, Figure 2 with ten models; and the sweep's probes (RQ4's chart).
"$bin" -q analyze tests/golden/zoo_vm.jsonl "$tmp/real.jsonl" "$tmp/sweep.jsonl" --out "$tmp/report" >/dev/null
ls "$tmp/report"/rq4_*.svg >/dev/null
python3 tests/browser/check_report.py "$tmp/report" "$tmp/report-png"
# This machine's log alone: its probe's roofs give every op a bound.
"$bin" -q analyze "$tmp/real.jsonl" --out "$tmp/report-real" >/dev/null
python3 tests/check_bounds.py "$tmp/report-real"

step "fleet report and Parquet export (cargo feature parquet), read back by DuckDB"
# The export is a cargo feature, off by default (docs/analysis.md says why): built and tested
# here. The feature only adds `--export parquet`, so the later steps' debug binary is unchanged
# otherwise.
cargo test --locked --features parquet --test analyze_fleet
cargo build --locked --features parquet
python3 tests/fleet_duckdb.py "$bin" "$tmp/real.jsonl" "$tmp/fleet"

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

step "as a normal user: a missing package is named with the command to run, or installed with sudo; the card image needs no root"
if [ "$(id -u)" = 0 ] && command -v runuser >/dev/null; then
    user=nobody
    home=$(mktemp -d)
    cp -r image tools models "$home/"
    mkdir -p "$home/target"
    [ -d target/image-cache ] && cp -r target/image-cache "$home/target/"
    cp target/aarch64-unknown-linux-musl/release/hiddencost "$home/hiddencost"
    chown -R "$user" "$home"
    status=0
    runuser -u "$user" -- env PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        bash "$home/tools/need-packages.sh" hiddencost-no-such-package 2>"$tmp/need.err" || status=$?
    [ "$status" = 1 ] && grep -q "apt-get install -y -qq hiddencost-no-such-package" "$tmp/need.err" \
        || { echo "need-packages as $user: status $status"; cat "$tmp/need.err"; exit 1; }
    sed 's/^/  /' "$tmp/need.err"
    (cd "$home" && runuser -u "$user" -- env HOME="$home" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        bash image/build.sh --binary hiddencost --out image-out >/dev/null 2>"$tmp/image.err") \
        || { cat "$tmp/image.err"; exit 1; }
    echo "card image built as $user: $(stat -c %s "$home/image-out/hiddencost.img") bytes"
    # A normal user with sudo: need-packages says so, then installs through sudo (Debian's
    # `hello`, removed again).
    bash tools/need-packages.sh sudo
    sudoer=hiddencost-test
    id "$sudoer" >/dev/null 2>&1 || useradd --no-create-home --home-dir "$home" "$sudoer"
    echo "$sudoer ALL=(root) NOPASSWD: ALL" > /etc/sudoers.d/hiddencost-test
    chown -R "$sudoer" "$home"
    apt-get remove -y -qq hello >/dev/null 2>&1 || true
    runuser -u "$sudoer" -- bash "$home/tools/need-packages.sh" hello 2>"$tmp/sudo.err" \
        || { cat "$tmp/sudo.err"; exit 1; }
    grep -q "installing hello with sudo" "$tmp/sudo.err" || { cat "$tmp/sudo.err"; exit 1; }
    dpkg-query -W -f='${Status}' hello | grep -q 'install ok installed'
    echo "as $sudoer: $(head -1 "$tmp/sudo.err"); installed"
    apt-get remove -y -qq hello >/dev/null 2>&1
    rm -f /etc/sudoers.d/hiddencost-test
    userdel "$sudoer"
    rm -rf "$home"
else
    echo "not root: this run itself is the normal-user case"
fi
