#!/usr/bin/env bash
# The aarch64 binary and the card image under QEMU (part of tests/run.sh). Installs what it needs,
# QEMU 10 from bookworm-backports among it (-M raspi4b needs QEMU >= 9).
#  1. qemu-user runs the static binary on a small model: counters unavailable (ENOSYS), no crash.
#  2. image/build.sh makes the card image from the pinned Debian packages and this binary.
#  3. -M virt boots its kernel + initramfs with the card image as a disk, a model and a setting
#     dropped on the card: records on the serial line with the guest PMU's cycles, the card's
#     model measured and its setting applied, the same log in results/ on the card's FAT
#     partition, QEMU exits by itself after the power-off.
#  4. -M virt without a card: the missing card becomes a run note, records still on serial.
#  5. -M virt -icount, twice: instructions counted per op, equal in both boots.
#  6. -M raspi4b boots the card's very kernel, device tree and initramfs, four cores, four
#     threads: records on the console, cycles counted over the pool's threads too.
set -eu
cd "$(dirname "$0")/../.."
here=tests/qemu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

qemu_major=$(qemu-system-aarch64 --version 2>/dev/null | awk '/version/ {split($4, v, "."); print v[1]; exit}')
if [ "${qemu_major:-0}" -lt 9 ] || ! command -v qemu-aarch64-static >/dev/null \
    || ! command -v cpio >/dev/null || ! command -v mcopy >/dev/null; then
    if ! apt-cache policy | grep -q bookworm-backports; then
        cat > /etc/apt/sources.list.d/bookworm-backports.sources <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    fi
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -t bookworm-backports qemu-system-arm >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static cpio mtools dosfstools fdisk >/dev/null
fi
echo "$(qemu-system-aarch64 --version | head -1)"
bin=$(PROFILE=qemu-test bash image/aarch64-binary.sh)
echo "binary: $(stat -c %s "$bin") bytes, $(file -b "$bin" | cut -d, -f1-4)"

echo "-- qemu-user"
qemu-aarch64-static "$bin" -q bench models/tiny_cnn.onnx --runs 3 --warmup 1 --out "$work/user.jsonl" >/dev/null
python3 "$here/check_serial.py" "$work/user.jsonl" user

echo "-- card image"
start=$(date +%s)
dir=$(bash image/build.sh --binary "$bin" --out "$work/image")
echo "built in $(( $(date +%s) - start )) s: $(grep -E '^(hiddencost card|binary)' "$dir/manifest.txt" | tr '\n' ' ')"

boot() { # MACHINE LOG [qemu.sh options] -- [kernel command line words]
    local machine=$1 log=$2; shift 2
    bash image/qemu.sh "$machine" --dir "$dir" --log "$log.serial" --timeout 600 "$@" > "$log" 2>&1 \
        || { echo "QEMU run failed:"; tail -20 "$log"; exit 1; }
    grep '^qemu.sh: .*first record' "$log"
}

echo "-- -M virt with the card image (a model and a setting dropped on it, as a user would)"
cp "$dir/hiddencost.img" "$work/card.img"
export MTOOLS_SKIP_CHECK=1
offset=$(( $(sfdisk --dump "$work/card.img" | awk -F'[=,]' '/start=/ {gsub(/ /,""); print $2}') * 512 ))
mcopy -i "$work/card.img@@$offset" models/tiny_cnn.onnx ::models/
{ mtype -i "$work/card.img@@$offset" ::hiddencost.conf; echo "runs = 3"; } > "$work/hiddencost.conf"
mcopy -o -i "$work/card.img@@$offset" "$work/hiddencost.conf" ::hiddencost.conf
boot virt "$work/card.log" --card "$work/card.img" -- \
    hiddencost.models=zoo:mobilenet,zoo:shufflenetv2 hiddencost.runs=2 hiddencost.warmup=1
mdir -b -i "$work/card.img@@$offset" ::results
results=$(mdir -b -i "$work/card.img@@$offset" ::results | grep '\.jsonl$')
[ "$(echo "$results" | wc -l)" = 1 ] || { echo "expected one results file on the card: $results"; exit 1; }
mcopy -i "$work/card.img@@$offset" "$results" "$work/from-card.jsonl"
python3 "$here/check_serial.py" "$work/card.log" card "$work/from-card.jsonl"

echo "-- -M virt without a card"
boot virt "$work/virt.log" -- hiddencost.models=zoo:shufflenetv2 hiddencost.runs=2 hiddencost.warmup=1
python3 "$here/check_serial.py" "$work/virt.log" virt

echo "-- -M virt -icount, twice"
for i in 1 2; do
    boot virt "$work/icount$i.log" --icount 3 -- hiddencost.boot=none hiddencost.models=zoo:shufflenetv2 \
        hiddencost.runs=2 hiddencost.warmup=1 hiddencost.events=cycles,instructions
done
python3 "$here/check_serial.py" "$work/icount1.log" icount "$work/icount2.log"

echo "-- -M raspi4b"
boot raspi4b "$work/raspi4b.log" -- hiddencost.boot=none hiddencost.models=zoo:shufflenetv2 \
    hiddencost.runs=2 hiddencost.warmup=1 hiddencost.threads=4
python3 "$here/check_serial.py" "$work/raspi4b.log" raspi4b
