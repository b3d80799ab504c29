#!/usr/bin/env bash
# Runs lava/qemu-aarch64.yaml through LAVA's own dispatcher, without a server:
#
#     bash lava/run-qemu.sh IMAGE_DIR OUT_DIR
#
# IMAGE_DIR is image/build.sh's output (boot/vmlinuz, initramfs.cpio.gz). The job's artifact
# URLs become file:// URLs of IMAGE_DIR, lava-run boots them with the device dictionary
# lava/devices/qemu.yaml, and writes into OUT_DIR: job.yaml (the job it ran), lava-run.log
# (what lava-run printed on stderr: its log, one entry per line) and its own files
# (result.yaml, description.yaml, ...). Exits with lava-run's status. Needs lava-dispatcher
# (Debian's package) and qemu-system-aarch64; lava-run wants root (it writes under
# /var/lib/lava/dispatcher), so a normal user runs it with sudo.
set -eu
[ $# = 2 ] || { echo "usage: bash lava/run-qemu.sh IMAGE_DIR OUT_DIR" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
images=$(cd "$1" && pwd)
mkdir -p "$2"
out=$(cd "$2" && pwd)
for f in boot/vmlinuz initramfs.cpio.gz; do
    [ -f "$images/$f" ] || { echo "run-qemu.sh: no $f in $images; run bash image/build.sh" >&2; exit 1; }
done
command -v lava-run >/dev/null || { echo "run-qemu.sh: no lava-run: bash tools/need-packages.sh lava-dispatcher" >&2; exit 1; }
# The job's placeholder URLs, pointed at this image (the kernel is in boot/, the rest at the top).
sed -e "s|https://artifacts.example.com/hiddencost/vmlinuz|file://$images/boot/vmlinuz|" \
    -e "s|https://artifacts.example.com/hiddencost/|file://$images/|" \
    "$here/qemu-aarch64.yaml" > "$out/job.yaml"
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo -n)
status=0
"${as_root[@]}" lava-run --job-id 1 --output-dir "$out/lava" --device "$here/devices/qemu.yaml" \
    "$out/job.yaml" 2> "$out/lava-run.log" || status=$?
echo "lava-run: status $status, $(wc -l < "$out/lava-run.log") log entries in $out/lava-run.log" >&2
exit $status
