#!/usr/bin/env bash
# Every test of hiddencost, from a fresh Debian 12 machine, as root or as a normal user with
# sudo, in tiers, each timed: installs what the selected tiers need first (Debian packages up
# front, Python tools into a virtual environment of its own under target/), then runs them.
# Run from anywhere:
#     bash tests/run.sh                   # every tier, in the order below (the README's command)
#     bash tests/run.sh fast heavy        # the named tiers, in the order below, after `setup`
#                                         # when one of them needs packages or the Python tools
#     bash tests/run.sh --dry-run qemu    # which tiers would run, and nothing else
#     bash tests/run.sh --list            # the tiers
# Each tier ends with its wall time (`== tier fast: 212 s`), the run with a table of them all.
# A failing tier stops the run, names itself and exits non-zero.
set -eu
cd "$(dirname "$0")/.."

all_tiers=(setup fast docs heavy logs browser fleet zoo-onnx yocto qemu user)
describe() {
    case $1 in
        setup) echo "Debian packages the selected tiers need, all before the first build; the Python tools in target/test-venv" ;;
        fast) echo "cargo test: unit tests, the CLI tests on the fixtures, a few thousand fuzz cases" ;;
        docs) echo "rustdoc of the workspace with no warning: no broken link, none to a private item" ;;
        heavy) echo "the tests cargo test lists as ignored for this tier (the zoo's big networks), 100,000 ONNX fuzz cases" ;;
        logs) echo "the committed fixtures reproduce; real logs validate against docs/record.schema.json" ;;
        browser) echo "report.html and every chart in headless Chromium" ;;
        fleet) echo "the parquet feature built and tested; a fleet's export read by DuckDB" ;;
        zoo-onnx) echo "the exported zoo through onnx's checker and onnxruntime" ;;
        yocto) echo "the Yocto layer: crates include, lint, kas files, license checksum" ;;
        qemu) echo "tests/qemu/run.sh: the static aarch64 binary, qemu-user, the card image, QEMU boots, LAVA" ;;
        user) echo "as a normal user: a missing package named, one installed with sudo; the card image without root" ;;
    esac
}

dry=0
selected=()
for arg in "$@"; do
    case $arg in
        -n | --dry-run) dry=1 ;;
        -l | --list)
            for t in "${all_tiers[@]}"; do printf '%-9s %s\n' "$t" "$(describe "$t")"; done
            exit 0 ;;
        -h | --help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *)
            if ! printf '%s\n' "${all_tiers[@]}" | grep -qxF -- "$arg"; then
                echo "tests/run.sh: no tier \"$arg\"; the tiers: ${all_tiers[*]}" >&2
                exit 2
            fi
            selected+=("$arg") ;;
    esac
done
[ ${#selected[@]} -gt 0 ] || selected=("${all_tiers[@]}")
# The tiers that need the Python tools (on PATH from setup on) and those that need packages.
venv_tiers=(fast logs browser fleet zoo-onnx yocto qemu)
package_tiers=(browser qemu user)
wants() { # TIER...: is one of them selected?
    local t s
    for t in "$@"; do for s in "${selected[@]}"; do [ "$s" = "$t" ] && return 0; done; done
    return 1
}
# setup alone prepares every tier; any tier that needs it gets it first.
if [ "${selected[*]}" = setup ]; then
    selected=("${all_tiers[@]}")
    only_setup=1
else
    only_setup=0
    wants "${venv_tiers[@]}" "${package_tiers[@]}" && selected+=(setup)
fi
plan=()
for t in "${all_tiers[@]}"; do
    wants "$t" || continue
    [ $only_setup = 1 ] && [ "$t" != setup ] && continue
    plan+=("$t")
done
if [ $dry = 1 ]; then
    for t in "${plan[@]}"; do printf '%-9s %s\n' "$t" "$(describe "$t")"; done
    exit 0
fi

step() { printf '\n== %s\n' "$*"; }

tmp=$(mktemp -d)
times=()
current=""
tier_start=$SECONDS
summary() {
    [ ${#times[@]} -gt 0 ] || return 0
    printf '\n== tier times\n'
    printf '  %-9s %6s s%s\n' "${times[@]}"
    printf '  %-9s %6s s\n' total "$SECONDS"
}
finish() {
    local status=$?
    rm -rf "$tmp"
    if [ -n "$current" ]; then
        local took=$((SECONDS - tier_start))
        printf '\n== tier %s FAILED (exit status %s) after %s s\n' "$current" "$status" "$took"
        times+=("$current" "$took" "  FAILED")
        [ "$status" = 0 ] && status=1
    fi
    summary
    exit "$status"
}
trap finish EXIT

tier() { # NAME: runs tier_NAME, then prints its time
    current=$1
    tier_start=$SECONDS
    printf '\n==== tier %s: %s\n' "$1" "$(describe "$1")"
    "tier_${1//-/_}"
    local took=$((SECONDS - tier_start))
    printf '\n== tier %s: %s s\n' "$1" "$took"
    times+=("$1" "$took" "")
    current=""
}

# The debug binary the checks after `fast` drive: `cargo test` built it; built here otherwise,
# once, the same way (`cargo build` would build tract a second time: without the
# dev-dependencies, features unify differently). The fleet tier then replaces it with the same
# binary plus `--export parquet`.
built=0
debug_binary() {
    [ $built = 1 ] && return 0
    cargo test --locked --no-run
    built=1
}
bin=target/debug/hiddencost

# This machine's bench log and a sweep log of two design families, made once per run for the
# tiers that read them (logs, browser, fleet).
real_logs() {
    [ -s "$tmp/real.jsonl" ] && [ -s "$tmp/sweep.jsonl" ] && return 0
    debug_binary
    "$bin" -q bench models/tiny_cnn.onnx models/shuffle.onnx --runs 2 --out "$tmp/real.jsonl" >/dev/null
    # Two design families of the sweep: their records are bench's, with sweep.* metadata.
    "$bin" -q sweep --families merge,batchnorm --runs 5 --budget 30 --probe-budget 0 \
        --out "$tmp/sweep.jsonl" >/dev/null
}

tier_setup() {
    step "Debian packages for the selected tiers, all before the first build"
    if ! command -v cargo >/dev/null; then
        echo "no cargo on PATH: install Rust 1.91 or newer with rustup (https://rustup.rs)"; exit 1
    fi
    local packages=() what=""
    if wants qemu; then
        local qemu_major
        qemu_major=$(qemu-system-aarch64 --version 2>/dev/null | awk '/version/ {split($4, v, "."); print v[1]; exit}')
        # -M raspi4b needs QEMU 9 or newer: bookworm's is 7.2, bookworm-backports has 10.
        [ "${qemu_major:-0}" -ge 9 ] || bash tools/need-packages.sh --backports qemu-system-arm
        # lava-dispatcher (below) needs qemu-system-x86, through libguestfs: it must be the same
        # QEMU release as qemu-system-arm's qemu-system-common, so from backports when that one
        # is (else apt finds bookworm's 7.2 and refuses: "held broken packages").
        from_backports() { dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | grep -q 'ok installed .*~bpo'; }
        if from_backports qemu-system-common && ! from_backports qemu-system-x86; then
            bash tools/need-packages.sh --backports --no-recommends qemu-system-x86
        fi
        what=" qemu-system-arm $(qemu-system-aarch64 --version | awk '/version/ {print $4; exit}')"
    fi
    wants browser && packages+=(chromium)
    # The static aarch64 binary and the card image (image/build.sh; the user tier builds it as
    # a user who cannot install anything).
    wants qemu user && packages+=(gcc-aarch64-linux-gnu file qemu-user-static cpio mtools dosfstools fdisk)
    if wants "${venv_tiers[@]}"; then
        python3 -c 'import ensurepip, venv' 2>/dev/null || packages+=(python3-venv)
    fi
    [ ${#packages[@]} -eq 0 ] || bash tools/need-packages.sh "${packages[@]}"
    # LAVA's dispatcher (the QEMU job of lava/ runs through lava-run), without its Recommends.
    if wants qemu; then
        bash tools/need-packages.sh --no-recommends lava-dispatcher
        what+=" lava-dispatcher"
    fi
    echo "all there: ${packages[*]}$what"

    wants "${venv_tiers[@]}" || return 0
    step "Python tools (fixtures, schema validation, the zoo's outside-world check, Yocto layer lint and kas, the report's browser check, LAVA-style logs, DuckDB for the Parquet export), in target/test-venv"
    # A virtual environment of the tests' own, made by the python3 on PATH: Debian's own Python
    # refuses pip installs outside one (PEP 668, "externally-managed-environment").
    local venv=target/test-venv
    local tools="onnx==1.23.2 numpy==2.4.6 jsonschema==4.25.1 onnxruntime==1.31.1 oelint-adv==9.11.2 \
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
}

tier_fast() {
    step "cargo test (the heavy tier's tests listed as ignored)"
    cargo test --locked
    built=1
}

tier_docs() {
    step "cargo doc of both crates, every rustdoc warning an error"
    RUSTDOCFLAGS="-D warnings" cargo doc --locked --workspace --no-deps
}

tier_heavy() {
    step "the tests cargo test leaves to this tier (#[ignore = \"heavy tier: ...\"]): the zoo's big networks"
    # Every ignored test but fuzz_worker, the child process fuzz_onnx_bounded starts itself.
    # --tests: not the doctests, whose ignored examples are not meant to run.
    cargo test --locked --tests -- --ignored --skip fuzz_worker
    # HIDDENCOST_HEAVY_FUZZ_CASES changes the count, for a CI with less time or a longer search.
    local cases=${HIDDENCOST_HEAVY_FUZZ_CASES:-100000}
    step "$cases ONNX fuzz cases (cargo test runs 3,000), one worker per core"
    HIDDENCOST_FUZZ_CASES=$cases cargo test --locked --test fuzz_onnx fuzz_onnx_bounded -- --nocapture
}

tier_logs() {
    step "committed ONNX fixtures are what models/make_fixtures.py makes"
    mkdir "$tmp/fixtures"
    python3 models/make_fixtures.py "$tmp/fixtures" >/dev/null
    for f in models/*.onnx; do
        cmp "$f" "$tmp/fixtures/$(basename "$f")"
    done
    echo "fixtures reproduce byte for byte"

    step "a real bench log validates against docs/record.schema.json"
    real_logs
    # garbage.onnx fails on purpose (an error record, exit status 1); anything else is a failure.
    local status=0
    "$bin" -q bench models/tiny_cnn.onnx models/garbage.onnx --runs 2 --fake-counters --optimize none \
        --out "$tmp/fake.jsonl" >/dev/null 2>"$tmp/fake.err" || status=$?
    [ "$status" = 1 ] || { echo "expected exit status 1, got $status"; cat "$tmp/fake.err"; exit 1; }
    "$bin" cost models/tiny_cnn.onnx --json > "$tmp/cost.jsonl"
    python3 tests/validate_log.py docs/record.schema.json "$tmp/real.jsonl" "$tmp/fake.jsonl" "$tmp/cost.jsonl" \
        "$tmp/sweep.jsonl" tests/golden/*.jsonl
}

tier_browser() {
    step "report.html and every chart in a real browser (Debian's Chromium, offline)"
    real_logs
    # The golden zoo log (another VM, no machine roofs) and this machine's bench log (with them):
    # two devices in one report, Figure 2 with ten models; and the sweep's probes (RQ4's chart).
    "$bin" -q analyze tests/golden/zoo_vm.jsonl "$tmp/real.jsonl" "$tmp/sweep.jsonl" --out "$tmp/report" >/dev/null
    ls "$tmp/report"/rq4_*.svg >/dev/null
    python3 tests/browser/check_report.py "$tmp/report" "$tmp/report-png"
    # This machine's log alone: its probe's roofs give every op a bound.
    "$bin" -q analyze "$tmp/real.jsonl" --out "$tmp/report-real" >/dev/null
    python3 tests/check_bounds.py "$tmp/report-real"
}

tier_fleet() {
    step "fleet report and Parquet export (cargo feature parquet), read back by DuckDB"
    real_logs
    # The export is a cargo feature, off by default (docs/analysis.md says why): built and tested
    # here. This also leaves target/debug/hiddencost built with it, for the later tiers: the
    # feature only adds `--export parquet`. (Not `cargo build`: without the dev-dependencies,
    # features unify differently and tract's crates would all be built again.)
    cargo test --locked --features parquet --test analyze_fleet
    python3 tests/fleet_duckdb.py "$bin" "$tmp/real.jsonl" "$tmp/fleet"
}

tier_zoo_onnx() {
    step "exported zoo models pass onnx's checker and run in onnxruntime"
    debug_binary
    "$bin" zoo export "$tmp/zoo" >/dev/null
    python3 tests/zoo_check.py "$tmp/zoo"
}

tier_yocto() {
    step "Yocto layer: crates include, lint, kas files, license checksum (no bitbake here)"
    local inc=yocto-layer/recipes-benchmark/hiddencost/hiddencost-crates.inc
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
}

tier_qemu() {
    step "the static aarch64 binary under QEMU (user mode, then a full-system boot as PID 1)"
    debug_binary # tests/qemu/run.sh reads the guests' logs with it
    bash tests/qemu/run.sh
}

tier_user() {
    step "as a normal user: a missing package is named with the command to run, or installed with sudo; the card image needs no root"
    if [ "$(id -u)" != 0 ] || ! command -v runuser >/dev/null; then
        echo "not root: this run itself is the normal-user case"
        return 0
    fi
    # The qemu tier built the static binary; built here when that tier did not run.
    local aarch64=target/aarch64-unknown-linux-musl/release/hiddencost
    [ -x "$aarch64" ] || aarch64=$(PROFILE=release bash image/aarch64-binary.sh)
    local user=nobody home status
    home=$(mktemp -d)
    cp -r image tools models "$home/"
    mkdir -p "$home/target"
    [ -d target/image-cache ] && cp -r target/image-cache "$home/target/"
    cp "$aarch64" "$home/hiddencost"
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
    local sudoer=hiddencost-test
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
}

for t in "${plan[@]}"; do
    tier "$t"
done
