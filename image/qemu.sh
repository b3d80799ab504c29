#!/usr/bin/env bash
# Boots what image/build.sh made, under QEMU, and prints the serial line until the run is over.
#
#   bash image/qemu.sh virt    [--card IMG] [--icount N] [--log FILE] [--timeout S]
#                              [--power-cut-after N] [-- WORDS...]
#   bash image/qemu.sh raspi4b [--card IMG] [--log FILE] [--timeout S] [-- WORDS...]
#
# virt:    -M virt -cpu cortex-a72, one core: the same kernel and initramfs; the guest's PMU
#          counts cycles (and, with --icount N, deterministic instructions); the card image, if
#          given, is a virtio disk. QEMU exits by itself when hiddencost powers off.
# raspi4b: -M raspi4b (QEMU >= 9): the very kernel, device tree and initramfs of the card, the
#          card image as the SD card. This machine has no power-off, so the launcher stops QEMU
#          once the kernel says the system halted.
# --power-cut-after N: SIGKILL QEMU (a power cut: what the guest had not written to the card is
#          lost) once N model records are on the serial line.
# The card image is written to (results/ gets the log): pass a copy to keep the original clean.
# WORDS are added to the kernel command line (hiddencost.models=zoo:mobilenet, ...).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=$(dirname "$here")/target/image
machine=${1:-}
[ $# -gt 0 ] && shift
card=
icount=
log=
timeout=900
cut_after=
while [ $# -gt 0 ]; do
    case $1 in
        --card) card=$2; shift 2 ;;
        --icount) icount=$2; shift 2 ;;
        --log) log=$2; shift 2 ;;
        --timeout) timeout=$2; shift 2 ;;
        --power-cut-after) cut_after=$2; shift 2 ;;
        --dir) dir=$2; shift 2 ;;
        --) shift; break ;;
        *) echo "qemu.sh: unknown argument $1 (see the head of this script)" >&2; exit 2 ;;
    esac
done
extra="$*"
kernel=$dir/boot/vmlinuz
initrd=$dir/initramfs.cpio.gz
[ -f "$kernel" ] && [ -f "$initrd" ] || { echo "qemu.sh: no image in $dir; run bash image/build.sh" >&2; exit 1; }
[ -z "$card" ] || [ -f "$card" ] || { echo "qemu.sh: no card image $card" >&2; exit 1; }
[ -n "$log" ] || log=$(mktemp)

case $machine in
    virt)
        # One PL011 UART: the data shares it with the (quiet) kernel console.
        if [ -z "$icount" ]; then
            args=(-M virt -cpu cortex-a72 -m 2048 -smp 1)
        else
            # Deterministic runs: no host randomness in the device tree, no address-space
            # randomisation, virtual time that neither follows the host's while idle
            # (sleep=off) nor starts from the host's date.
            args=(-M virt,dtb-randomness=off -cpu cortex-a72 -m 2048 -smp 1
                -icount "shift=$icount,sleep=off" -rtc base=2026-01-01T00:00:00,clock=vm)
            extra="nokaslr norandmaps $extra"
        fi
        append="console=ttyAMA0 quiet loglevel=1 hiddencost.serial=/dev/ttyAMA0"
        if [ -n "$card" ]; then
            args+=(-drive "if=none,format=raw,file=$card,id=card" -device virtio-blk-device,drive=card)
        fi
        ;;
    raspi4b)
        # Workarounds for devices QEMU does not model: the HDMI interrupt controller and I2C
        # (their drivers fault), clocks (disabling "unused" ones faults). QEMU's mini UART
        # (ttyS1, the board's data port) hangs Linux's 8250 driver when opened, and the
        # mainline tree gives the PL011 to Bluetooth (no /dev/ttyAMA0): under QEMU the records
        # go to the kernel console on the PL011, kept quiet.
        args=(-M raspi4b -dtb "$dir/boot/bcm2711-rpi-4-b.dtb")
        append="$(sed 's/hiddencost.serial=[^ ]*//; s/console=[^ ]*//g; s/loglevel=[^ ]*//' "$dir/boot/cmdline.txt")"
        append="console=ttyAMA0 loglevel=1 $append hiddencost.serial=console"
        append="$append initcall_blacklist=brcmstb_l2_driver_init,brcmstb_i2c_driver_init clk_ignore_unused"
        [ -z "$card" ] || args+=(-drive "if=sd,format=raw,file=$card")
        ;;
    *) echo "qemu.sh: machine must be virt or raspi4b" >&2; exit 2 ;;
esac

: > "$log"
qemu-system-aarch64 "${args[@]}" -kernel "$kernel" -initrd "$initrd" -append "$append $extra" \
    -display none -monitor none -serial "file:$log" -no-reboot 2>"$log.qemu" &
qemu=$!
tail -n +1 -f "$log" --pid=$qemu &
t0=$(date +%s%N)
since() { echo "$(( ($(date +%s%N) - t0) / 1000000 ))" | sed 's/...$/.&/; s/^\./0./'; }
first=
status=0
while kill -0 $qemu 2>/dev/null; do
    if [ -z "$first" ] && grep -q '^{"type":"header"' "$log"; then
        first=$(since)
    fi
    if [ -n "$cut_after" ] && [ "$(grep -c '^{"type":"model"' "$log")" -ge "$cut_after" ]; then
        kill -KILL $qemu 2>/dev/null || true
        echo "qemu.sh: power cut (SIGKILL) after $cut_after model records, $(since) s" >&2
        break
    fi
    if grep -q -e "reboot: System halted" -e "reboot: Power down" "$log"; then
        sleep 1
        kill $qemu 2>/dev/null || true
        break
    fi
    if [ $(( ($(date +%s%N) - t0) / 1000000000 )) -ge "$timeout" ]; then
        echo "qemu.sh: no power-off within $timeout s; stopping QEMU" >&2
        kill $qemu 2>/dev/null || true
        status=1
        break
    fi
    sleep 0.2
done
wait $qemu 2>/dev/null || true
sleep 0.2
grep -v "has been disabled" "$log.qemu" >&2 || true
rm -f "$log.qemu"
echo "qemu.sh: $machine: first record ${first:-never} s after QEMU started, stopped after $(since) s" >&2
exit $status
