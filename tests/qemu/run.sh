#!/usr/bin/env bash
# The aarch64 binary under QEMU: qemu-user on a small model (counters: ENOSYS), then a
# full-system boot of Debian's arm64 kernel with hiddencost as /init on `-M virt -cpu
# cortex-a72`: the records come back on the serial line, with the cycle counter of the guest's
# emulated PMU, and QEMU exits by itself after the power-off. Installs what it needs.
set -eu
cd "$(dirname "$0")/../.."
here=tests/qemu
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

if ! command -v qemu-system-aarch64 >/dev/null || ! command -v qemu-aarch64-static >/dev/null \
    || ! command -v cpio >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq qemu-user-static qemu-system-arm cpio >/dev/null
fi
bin=$(bash "$here/build-aarch64.sh")
echo "binary: $(stat -c %s "$bin") bytes, $(file -b "$bin" | cut -d, -f1-4)"

echo "-- qemu-user"
qemu-aarch64-static "$bin" -q bench models/tiny_cnn.onnx --runs 3 --warmup 1 --out "$work/user.jsonl" >/dev/null
python3 "$here/check_serial.py" "$work/user.jsonl" user

echo "-- qemu-system-aarch64 -M virt: Debian's arm64 kernel, hiddencost as /init"
dpkg --print-foreign-architectures | grep -qx arm64 || { dpkg --add-architecture arm64; apt-get update -qq; }
pkg=$(apt-cache depends linux-image-arm64:arm64 | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
(cd "$work" && apt-get download -qq "$pkg" 2>/dev/null)
deb=$(ls "$work"/linux-image-*.deb)
echo "kernel package: $(basename "$deb") sha256 $(sha256sum "$deb" | cut -c1-16)..."
dpkg-deb -x "$deb" "$work/kernel"
kernel=$(ls "$work"/kernel/boot/vmlinuz-*)
mkdir -p "$work/root/proc" "$work/root/sys" "$work/root/dev" "$work/root/boot"
cp "$bin" "$work/root/init"
(cd "$work/root" && find . | cpio -o -H newc --quiet | gzip -1) > "$work/initramfs.cpio.gz"
start=$(date +%s)
timeout 600 qemu-system-aarch64 -M virt -cpu cortex-a72 -m 1024 -smp 1 -nographic -no-reboot \
    -kernel "$kernel" -initrd "$work/initramfs.cpio.gz" \
    -append "console=ttyAMA0 quiet loglevel=1 hiddencost.models=zoo:mobilenet,zoo:shufflenetv2 \
hiddencost.runs=2 hiddencost.warmup=1 hiddencost.serial=/dev/ttyAMA0 hiddencost.boot=/dev/none" \
    > "$work/virt.log" 2>&1 || { echo "QEMU did not power off by itself:"; tail -20 "$work/virt.log"; exit 1; }
echo "boot, benchmark of two models and power-off: $(( $(date +%s) - start )) s"
python3 "$here/check_serial.py" "$work/virt.log" virt
